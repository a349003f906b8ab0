/* SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause) */
/* sixguard's datapath: the entry point of every hook (DESIGN §2). The entry points are thin;
 * parsing, rules and accounting live in lib/ and are shared by all of them, so the hooks and
 * sg_explain cannot disagree. Program names are a contract with the agent. */
#include <linux/bpf.h>
#include <linux/pkt_cls.h>
#include <bpf/bpf_helpers.h>

#include "bpf/include/sixguard_shared.h"
#include "bpf/lib/maps.h"
#include "bpf/lib/run.h"

/* XDP on the host side of a machine's interface: what the machine sends. The machine is
 * sg_machines[ingress_ifindex]. Whatever reaches it, multi-buffer frames included, is read
 * past the outer headers with bpf_xdp_load_bytes (all fragments) and counted with
 * bpf_xdp_get_buff_len. It is not (yet) an xdp.frags program: the agent attaches it through
 * libxdp by its "xdp" section, and jumbo-MTU devices then need generic XDP. Making it one
 * means revisiting SG_XDP_LINEAR_IS_WHOLE (lib/ctx.h), which relies on that. */
SEC("xdp")
int sg_machine_egress(struct xdp_md *ctx) {
  return sg_run_xdp(ctx, SG_HOOK_MACHINE_EGRESS);
}

/* machine_egress where the XDP program cannot load (kernels before 5.18 lack
 * bpf_xdp_load_bytes): the same chain on TC clsact ingress of the host side of the machine's
 * interface, which sees the same frames once they are skbs. The machine is
 * sg_machines[skb->ifindex]. */
SEC("tc")
int sg_egress_tc(struct __sk_buff *skb) {
  return sg_run_tc(skb, SG_HOOK_MACHINE_EGRESS, 0);
}

/* TC clsact egress of the same interface: what is delivered to the machine. */
SEC("tc")
int sg_machine_ingress(struct __sk_buff *skb) {
  return sg_run_tc(skb, SG_HOOK_MACHINE_INGRESS, 0);
}

/* TC ingress on Ethernet uplinks: traffic from other hosts. */
SEC("tc")
int sg_uplink(struct __sk_buff *skb) {
  return sg_run_tc(skb, SG_HOOK_UPLINK, 0);
}

/* TC ingress on L3 uplinks (WireGuard, tun): the packet starts at the network header and
 * skb->protocol names it. Counted as the uplink hook. */
SEC("tc")
int sg_uplink_l3(struct __sk_buff *skb) {
  return sg_run_tc(skb, SG_HOOK_UPLINK, 1);
}

/* Run only through BPF_PROG_TEST_RUN by the agent's explain: SG_EXPLAIN_* in the shared
 * header. */
SEC("tc")
int sg_explain(struct __sk_buff *skb) {
  return sg_run_explain(skb);
}

char LICENSE[] SEC("license") = "Dual BSD/GPL";
