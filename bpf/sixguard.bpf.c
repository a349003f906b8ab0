/* SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause) */
/* Placeholder entry points; the datapath work replaces this file. */
#include <linux/bpf.h>
#include <linux/pkt_cls.h>
#include <bpf/bpf_helpers.h>

#include "lib/maps.h"

SEC("xdp") int sg_machine_egress(struct xdp_md *ctx) { return XDP_PASS; }
SEC("tc") int sg_machine_ingress(struct __sk_buff *skb) { return TC_ACT_OK; }
SEC("tc") int sg_uplink(struct __sk_buff *skb) { return TC_ACT_OK; }
SEC("tc") int sg_uplink_l3(struct __sk_buff *skb) { return TC_ACT_OK; }

char LICENSE[] SEC("license") = "Dual BSD/GPL";
