/* SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause) */
/* The smallest XDP and TC programs: tests/vm/bpf-smoke.sh uses them to tell what the
 * kernel can do (attach modes, test-run contexts, libxdp multiprog) apart from whether the
 * project's own object passes the verifier. */
#include <linux/bpf.h>
#include <bpf/bpf_helpers.h>

SEC("xdp")
int sg_vm_xdp_pass(struct xdp_md *ctx) {
  return XDP_PASS;
}

SEC("tc")
int sg_vm_tc_pass(struct __sk_buff *skb) {
  return 0; /* TC_ACT_OK */
}

char LICENSE[] SEC("license") = "Dual BSD/GPL";
