/* SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause) */
/* The traffic generator of the live benchmark (tests/bench/live_bench.cpp). Run with
 * BPF_PROG_TEST_RUN and BPF_F_TEST_XDP_LIVE_FRAMES, it turns each repetition of the test
 * packet into a real frame and redirects it out of one veth end, so the other end receives it
 * through its NAPI poll exactly as a machine's frames arrive on the host side of its interface.
 * (Debian's xdp-trafficgen does not run on this kernel and pktgen is not built in.) */
#include <linux/bpf.h>
#include <linux/if_ether.h>
#include <linux/ipv6.h>
#include <bpf/bpf_endian.h>
#include <bpf/bpf_helpers.h>

/* The veth end to transmit on, in the namespace of the thread that runs the test. Set before
 * load: it never changes during a run. */
const volatile __u32 target_ifindex = 0;

/* Frames redirected to the veth: what the generator offered (read from user space). One
 * generator thread, so a plain increment is exact. */
__u64 sent = 0;

SEC("xdp")
int bench_live_gen(struct xdp_md *ctx) {
  sent++;
  return bpf_redirect(target_ifindex, 0);
}

/* A second ceiling for the receiver: drop after reading the Ethernet and IPv6 headers and
 * comparing the addresses' network words, the least any filter of this policy must do. Unlike
 * a bare XDP_DROP it pays for bringing the frame's bytes into the receiving core's cache (the
 * generator wrote them on another core), so the difference between the two ceilings is the
 * cost of touching the packet, not of any policy. */
SEC("xdp")
int bench_live_read_drop(struct xdp_md *ctx) {
  void *data = (void *)(long)ctx->data;
  void *data_end = (void *)(long)ctx->data_end;
  struct ethhdr *eth = data;
  struct ipv6hdr *ip6 = (void *)(eth + 1);
  if ((void *)(ip6 + 1) > data_end) return XDP_PASS;
  if (eth->h_proto != bpf_htons(ETH_P_IPV6)) return XDP_PASS;
  /* Bytes 2-5 of the address (the network id) sit in words 0 and 1. */
  if (ip6->saddr.in6_u.u6_addr32[0] == ip6->daddr.in6_u.u6_addr32[0] &&
      ip6->saddr.in6_u.u6_addr32[1] == ip6->daddr.in6_u.u6_addr32[1])
    return XDP_PASS;
  return XDP_DROP;
}

char LICENSE[] SEC("license") = "Dual BSD/GPL";
