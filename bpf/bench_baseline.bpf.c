/* SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause) */
/* The floors the datapath benchmark compares against: programs that do nothing but return.
 * Measured in the same run as the datapath, they absorb what BPF_PROG_TEST_RUN itself costs
 * per packet, so the ratio shows what sixguard adds. */
#include <linux/bpf.h>
#include <linux/pkt_cls.h>
#include <bpf/bpf_helpers.h>

SEC("xdp")
int bench_xdp_pass(struct xdp_md *ctx) {
  return XDP_PASS;
}

SEC("xdp")
int bench_xdp_drop(struct xdp_md *ctx) {
  return XDP_DROP;
}

SEC("tc")
int bench_tc_ok(struct __sk_buff *skb) {
  return TC_ACT_OK;
}

char LICENSE[] SEC("license") = "Dual BSD/GPL";
