/* SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause) */
/* The verdict of DESIGN §2: one rule chain per hook, applied to every IPv6 level of the packet
 * (the outer header and every IPv6 header a tunnel carries, over IPv6 or IPv4), combined with
 * audit mode level by level. This is the one implementation: the hooks and sg_explain all
 * call sg_decide. */
#ifndef SIXGUARD_BPF_CLASSIFY_H
#define SIXGUARD_BPF_CLASSIFY_H

#include <linux/bpf.h>
#include <linux/if_ether.h>
#include <linux/ipv6.h>
#include <bpf/bpf_endian.h>
#include <bpf/bpf_helpers.h>

#include "bpf/include/sixguard_shared.h"
#include "bpf/lib/addr.h"
#include "bpf/lib/ctx.h"
#include "bpf/lib/maps.h"
#include "bpf/lib/parse.h"

/* A reason decides pass or drop by itself; the verdict is derived (and turned into audit
 * later, on the drop path only). */
static __always_inline int sg_reason_drops(__u8 reason) {
  return reason == SG_REASON_MALFORMED || reason == SG_REASON_SPOOFED_SOURCE ||
         reason == SG_REASON_NOT_FOR_MACHINE || reason == SG_REASON_CROSS_NETWORK;
}

/* What the rules read besides the packet, looked up once per packet. */
struct sg_env {
  const struct sg_config *config; /* NULL only if the array lookup failed (never) */
  /* Machine hooks: the interface's owner, copied to the stack whether it came from its slot
   * or from the hash. Always a copy so that the rest of the program sees one pointer type
   * (stack), which keeps the verifier from walking it once per source. */
  struct sg_machine machine;
  __u8 machine_present; /* machine holds the owner; 0: the interface is unknown */
  __u8 machine_known;   /* machine has been looked up */
};

/* Reads the owner slot of ifindex into *out as a seqlock reader: 1 when the copy is a
 * stable entry for this very interface, 0 when the caller must ask sg_machines (an empty
 * slot, another interface's, or one the agent is writing). The barriers keep the compiler
 * from moving the field loads outside the two seq loads; the CPU keeps their order because
 * x86 (TSO) never reorders loads with loads. Other architectures would need BPF load-acquire
 * (6.15), which is why this is x86-only, as the build is (BPF_TARGET_ARCH). */
static __always_inline int sg_owner_from_slot(__u32 ifindex, struct sg_machine *out) {
  __u32 index = ifindex & sg_owner_slot_mask;
  const struct sg_owner_slot *slot = bpf_map_lookup_elem(&sg_owner_slots, &index);
  if (!slot) return 0;
  __u32 seq = *(const volatile __u32 *)&slot->seq;
  asm volatile("" ::: "memory");
  __u32 slot_ifindex = slot->ifindex;
  __builtin_memcpy(out, &slot->machine, sizeof(*out));
  asm volatile("" ::: "memory");
  __u32 seq_after = *(const volatile __u32 *)&slot->seq;
  /* ifindex 0 is an empty slot, and never the packet's interface (explain may be handed 0). */
  return seq == seq_after && !(seq & 1) && slot_ifindex == ifindex && ifindex != 0;
}

/* The machine of the hook's interface, looked up once per packet and only when an IPv6 level
 * (or a drop on a machine hook) needs it: the IPv4 not_6pn path never pays for it. Its slot
 * first (an inlined array access), sg_machines, the authority, when the slot cannot answer. */
static __always_inline const struct sg_machine *sg_env_machine(const struct sg_ctx *c,
                                                               struct sg_env *env) {
  if (!env->machine_known) {
    __u32 ifindex = sg_ctx_ifindex(c);
    env->machine_known = 1;
    if (sg_owner_from_slot(ifindex, &env->machine)) {
      env->machine_present = 1;
    } else {
      const struct sg_machine *m = bpf_map_lookup_elem(&sg_machines, &ifindex);
      if (m) {
        __builtin_memcpy(&env->machine, m, sizeof(*m));
        env->machine_present = 1;
      }
    }
  }
  return env->machine_present ? &env->machine : NULL;
}

/* Rule "is infrastructure": an LPM lookup in sg_infra, skipped unless the address's network
 * holds an infrastructure prefix (sg_config.infra_nets) or SG_CFG_INFRA_ANY_NET asks for it.
 * This keeps the LPM walk off the same-network fast path. */
static __always_inline int sg_is_infra(const struct sg_config *config, const struct in6_addr *a) {
  if (!config) return 0;
  if (!(config->flags & SG_CFG_INFRA_ANY_NET)) {
    __u32 net = sg_network_id(a);
    __u32 count = config->infra_net_count;
    int listed = 0;
#pragma unroll
    for (int i = 0; i < SG_CFG_INFRA_NETS; i++) {
      if (i >= count) break;
      if (config->infra_nets[i] == net) {
        listed = 1;
        break;
      }
    }
    if (!listed) return 0;
  }
  /* Why a stack copy: an LPM key is prefixlen followed by the address, which the packet
   * does not hold contiguously. */
  struct sg_lpm_key key = {.prefixlen = 128};
  __builtin_memcpy(&key.addr, a, sizeof(key.addr));
  return bpf_map_lookup_elem(&sg_infra, &key) != NULL;
}

/* The Flycast entry of an address, or NULL. The key is read straight from the packet (the
 * verifier accepts packet memory as a map key), so no copy is made. */
static __always_inline const struct sg_flycast *sg_flycast_of(const struct in6_addr *a) {
  return bpf_map_lookup_elem(&sg_flycast, (void *)a);
}

/* Whether rule 6 (Flycast) can match for machine m: only when some Flycast address targets
 * its app (SG_MACHINE_FLYCAST_TARGET). Saves a hash lookup on every other machine's
 * same-network and cross-network packets. */
static __always_inline int sg_may_be_flycast_target(const struct sg_machine *m) {
  return m->flags & SG_MACHINE_FLYCAST_TARGET;
}

/* machine_egress and machine_ingress, rules 3-8 (rules 1-2 are the parser's): one chain seen
 * from either side. own is the machine's end of the packet (egress: the source; ingress: the
 * destination), peer the other end. egress is a constant at both calls (sg_rules), so each
 * inlined copy keeps only its own side: the code is what the two functions compiled to. */
static __always_inline __u8 sg_rules_machine(const struct sg_env *env, const struct sg_machine *m,
                                             const struct in6_addr *own,
                                             const struct in6_addr *peer, int egress) {
  __u8 not_own = egress ? SG_REASON_SPOOFED_SOURCE : SG_REASON_NOT_FOR_MACHINE;
  /* Fail closed: an interface with no sg_machines entry has no known /112, so no source is
   * legitimate on it and nothing is known to be for it. */
  if (!m) return not_own;
  /* Besides the /112, the machine's end may be link-local, and also the unspecified source
   * (egress) or a multicast destination (ingress). */
  if (!sg_in_machine_prefix(own, m) && !sg_is_link_local(own) &&
      !(egress ? sg_is_unspecified(own) : sg_is_multicast(own)))
    return not_own;
  if (!sg_is_6pn(peer)) return SG_REASON_NOT_6PN;
  if (sg_is_infra(env->config, peer)) return SG_REASON_INFRA;
  if (sg_may_be_flycast_target(m)) {
    const struct sg_flycast *fc = sg_flycast_of(peer);
    if (fc && fc->target_app_id == m->app_id) return SG_REASON_FLYCAST;
  }
  if (sg_network_id(peer) == m->network_id) return SG_REASON_SAME_NETWORK;
  return SG_REASON_CROSS_NETWORK;
}

/* uplink, rules 3-7: stateless, no interface owner. */
static __always_inline __u8 sg_rules_uplink(const struct sg_env *env, const struct ipv6hdr *ip6) {
  const struct in6_addr *src = &ip6->saddr, *dst = &ip6->daddr;
  if (!sg_is_6pn(src) || !sg_is_6pn(dst)) return SG_REASON_NOT_6PN;
  if (sg_is_infra(env->config, src) || sg_is_infra(env->config, dst)) return SG_REASON_INFRA;
  __u32 src_net = sg_network_id(src), dst_net = sg_network_id(dst);
  if (src_net == dst_net) return SG_REASON_SAME_NETWORK;
  const struct sg_flycast *fc = sg_flycast_of(src);
  if (fc && fc->target_network_id == dst_net) return SG_REASON_FLYCAST;
  fc = sg_flycast_of(dst);
  if (fc && fc->target_network_id == src_net) return SG_REASON_FLYCAST;
  return SG_REASON_CROSS_NETWORK;
}

/* hook is a constant in every hook program (the other branches fold away); only sg_explain
 * carries all three. */
static __always_inline __u8 sg_rules(const struct sg_ctx *c, struct sg_env *env,
                                     const struct ipv6hdr *ip6) {
  if (c->hook == SG_HOOK_MACHINE_EGRESS)
    return sg_rules_machine(env, sg_env_machine(c, env), &ip6->saddr, &ip6->daddr, 1);
  if (c->hook == SG_HOOK_MACHINE_INGRESS)
    return sg_rules_machine(env, sg_env_machine(c, env), &ip6->daddr, &ip6->saddr, 0);
  return sg_rules_uplink(env, ip6);
}

/* The decision on one packet, audit mode included. */
struct sg_decision {
  /* Offset of the IPv6 header whose addresses the deciding level used (for a malformed level:
   * the last IPv6 header read with version 6 at that level or before), valid when has_ip6. An
   * offset, not a pointer: it survives bpf_skb_pull_data and is re-read only for events. */
  __u32 ip6_off;
  __u8 has_ip6;
  __u8 reason;  /* enum sg_reason of the deciding level */
  __u8 verdict; /* enum sg_verdict */
};

/* The walk's running state across levels. */
struct sg_walk {
  __u32 last_ip6_off; /* the last IPv6 header read with version 6 */
  __u8 has_last_ip6;
  __u8 has_first_ip6; /* an IPv6 level has been judged */
  __u8 first_reason;  /* ... and this was its reason */
  __u8 audited;       /* a level's drop was audited: d holds the first one */
  __u8 done;          /* the verdict is final (enforcing drop, or a malformed level) */
};

/* Audit mode for a drop (DESIGN §2): global (SG_CFG_AUDIT) or the flag of the network
 * concerned: machine hooks, the machine's network; the uplink, the destination's network of
 * the level's addresses when it is 6PN. Drop path only. */
static __always_inline int sg_drop_audited(const struct sg_ctx *c, struct sg_env *env, __u8 has_ip6,
                                           __u32 ip6_off) {
  const struct sg_config *config = env->config;
  if (!config) return 0;
  if (config->flags & SG_CFG_AUDIT) return 1;
  /* No network in audit: skip the sg_net_flags lookup (a fully enforcing host's drops). */
  if (!(config->flags & SG_CFG_NET_AUDIT_ANY)) return 0;
  __u32 net = 0;
  if (c->hook == SG_HOOK_UPLINK) {
    struct ipv6hdr ip6;
    if (!has_ip6 || sg_load(c, ip6_off, &ip6, sizeof(ip6))) return 0;
    if (!sg_is_6pn(&ip6.daddr)) return 0;
    net = sg_network_id(&ip6.daddr);
  } else {
    const struct sg_machine *m = sg_env_machine(c, env);
    if (!m) return 0;
    net = m->network_id;
  }
  const __u32 *flags = bpf_map_lookup_elem(&sg_net_flags, &net);
  return flags && (*flags & SG_NET_AUDIT);
}

/* One level's drop: the first enforcing drop decides the packet; otherwise the first drop is
 * remembered as the audit verdict and the walk goes on. */
static __always_inline void sg_level_drops(const struct sg_ctx *c, struct sg_env *env,
                                           struct sg_walk *w, struct sg_decision *d, __u8 reason,
                                           __u8 has_ip6, __u32 ip6_off) {
  if (!sg_drop_audited(c, env, has_ip6, ip6_off)) {
    d->verdict = SG_VERDICT_DROP;
    d->reason = reason;
    d->has_ip6 = has_ip6;
    d->ip6_off = ip6_off;
    w->done = 1;
    return;
  }
  if (!w->audited) {
    w->audited = 1;
    d->verdict = SG_VERDICT_AUDIT;
    d->reason = reason;
    d->has_ip6 = has_ip6;
    d->ip6_off = ip6_off;
  }
}

/* A malformed level: it ends the walk (nothing beyond it can be read reliably). Its addresses
 * are the last IPv6 header read with version 6. */
static __always_inline void sg_level_malformed(const struct sg_ctx *c, struct sg_env *env,
                                               struct sg_walk *w, struct sg_decision *d) {
  sg_level_drops(c, env, w, d, SG_REASON_MALFORMED, w->has_last_ip6, w->last_ip6_off);
  w->done = 1;
}

/* One IPv6 level whose header (version not yet checked) is at ip6 (in the packet or copied)
 * and at offset off: consistency (rule 2), the extension-header chain, the hook's rules, and
 * the step to the next level (*off, *next). */
static __always_inline void sg_level_ipv6(const struct sg_ctx *c, struct sg_env *env,
                                          struct sg_walk *w, struct sg_decision *d,
                                          const struct ipv6hdr *ip6, __u32 *off, __u8 *next) {
  *next = SG_NEXT_END;
  if (ip6->version != 6) {
    sg_level_malformed(c, env, w, d);
    return;
  }
  __u32 ip6_off = *off;
  w->last_ip6_off = ip6_off;
  w->has_last_ip6 = 1;
  /* Consistency: a jumbo (0) or empty payload, or one the frame does not hold. Padding after
   * the claimed payload is fine. pkt_len - ip6_off cannot wrap: the header was read. */
  __u32 payload = bpf_ntohs(ip6->payload_len);
  __u32 held = c->pkt_len - ip6_off - sizeof(*ip6);
  if (payload == 0 || payload > held || ip6_off + sizeof(*ip6) > c->pkt_len) {
    sg_level_malformed(c, env, w, d);
    return;
  }
  __u32 at = ip6_off + sizeof(*ip6);
  __u8 nh = ip6->nexthdr, opaque = 0;
  if (sg_walk_chain(c, &at, at + payload, &nh, &opaque) != SG_PARSE_OK) {
    sg_level_malformed(c, env, w, d);
    return;
  }
  __u8 step_next = SG_NEXT_END;
  if (!opaque && sg_step(c, env->config, nh, 0, &at, &step_next) != SG_PARSE_OK) {
    sg_level_malformed(c, env, w, d);
    return;
  }
  /* A level is fully parsed before its rules run: malformed whatever its addresses say. */
  __u8 reason = sg_rules(c, env, ip6);
  if (!w->has_first_ip6) {
    w->has_first_ip6 = 1;
    w->first_reason = reason;
  }
  if (sg_reason_drops(reason)) {
    sg_level_drops(c, env, w, d, reason, 1, ip6_off);
    if (w->done) return;
  }
  *off = at;
  *next = step_next;
}

/* One IPv4 level at offset *off (ip4 in the packet or copied, at least 20 bytes): not judged
 * by the rules, only checked and stepped through. */
static __always_inline void sg_level_ipv4(const struct sg_ctx *c, struct sg_env *env,
                                          struct sg_walk *w, struct sg_decision *d,
                                          const struct iphdr *ip4, __u32 *off, __u8 *next) {
  *next = SG_NEXT_END;
  __u32 hdr_len = (__u32)ip4->ihl * 4;
  __u32 total = bpf_ntohs(ip4->tot_len);
  if (ip4->version != 4 || hdr_len < sizeof(*ip4) || total < hdr_len || *off + total > c->pkt_len) {
    sg_level_malformed(c, env, w, d);
    return;
  }
  /* A non-first fragment's payload is opaque: nothing further to check. */
  if (ip4->frag_off & bpf_htons(SG_IP4_OFFSET_MASK)) return;
  __u32 at = *off + hdr_len;
  __u8 step_next = SG_NEXT_END;
  if (sg_step(c, env->config, ip4->protocol, 1, &at, &step_next) != SG_PARSE_OK) {
    sg_level_malformed(c, env, w, d);
    return;
  }
  *off = at;
  *next = step_next;
}

/* The transport right after an IPv6 header read in place, when it ends the walk: TCP, ICMPv6,
 * or UDP (its header in the linear area) to a port that is not 4789 or 6081. Returns 0 for
 * anything else. *port: the UDP destination port (the caller rules out the configured
 * encapsulation ports). */
static __always_inline int sg_common_transport(const struct sg_ctx *c, const struct ipv6hdr *ip6,
                                               __u16 *port) {
  __u8 nh = ip6->nexthdr;
  *port = 0;
  if (nh == SG_NH_UDP) {
    const struct udphdr *udp = (const void *)(ip6 + 1);
    if ((const void *)(udp + 1) > c->data_end) return 0;
    *port = bpf_ntohs(udp->dest);
    return *port != SG_UDP_PORT_VXLAN && *port != SG_UDP_PORT_GENEVE;
  }
  return nh == SG_NH_TCP || nh == SG_NH_ICMPV6;
}

/* The common tunnel (issue 14): IPv6 directly in IPv6 (no extension header on either), the
 * inner one ending in a common transport, both headers in the linear area at constant
 * offsets. Exactly sg_decide's two levels: each level's consistency, the rules on the outer
 * then the inner addresses, the first enforcing drop deciding, else the first audited one,
 * else a pass with the outer level's reason. Anything else returns 0 before any rule ran (the
 * general walk decides, malformed verdicts included). */
static __always_inline int sg_decide_common_6in6(const struct sg_ctx *c, struct sg_decision *d,
                                                 const struct ipv6hdr *outer, __u32 off) {
  const struct ipv6hdr *inner = (const void *)(outer + 1);
  if ((const void *)(inner + 1) > c->data_end) return 0;
  __u16 port;
  if (!sg_common_transport(c, inner, &port)) return 0;
  __u32 inner_off = off + sizeof(*outer);
  __u32 payload = bpf_ntohs(outer->payload_len);
  __u32 inner_payload = bpf_ntohs(inner->payload_len);
  /* Both headers were read in place, so pkt_len holds them: no wrap below. */
  if (outer->version != 6 || payload == 0 || payload > c->pkt_len - off - sizeof(*outer)) return 0;
  if (inner->version != 6 || inner_payload == 0 ||
      inner_payload > c->pkt_len - inner_off - sizeof(*inner))
    return 0;
  __u32 zero = 0;
  struct sg_env env = {.config = bpf_map_lookup_elem(&sg_config, &zero), .machine_known = 0};
  if (!env.config) return 0;
  if (inner->nexthdr == SG_NH_UDP && sg_is_configured_encap_port(env.config, port)) return 0;
  struct sg_walk w = {};
  __u8 first = sg_rules(c, &env, outer);
  if (sg_reason_drops(first)) {
    sg_level_drops(c, &env, &w, d, first, 1, off);
    if (w.done) return 1;
  }
  __u8 second = sg_rules(c, &env, inner);
  if (sg_reason_drops(second)) {
    sg_level_drops(c, &env, &w, d, second, 1, inner_off);
    if (w.done) return 1;
  }
  if (!w.audited) d->reason = first;
  return 1;
}

/* The common shapes, decided without the general walk: untagged Ethernet (or an L3 device)
 * carrying IPv4 that carries no tunnel, or IPv6 whose next header is TCP, ICMPv6 or UDP to a
 * port that is not an encapsulation port (directly or inside one IPv6-in-IPv6 level:
 * sg_decide_common_6in6), every header read in the linear area. The verdict
 * is exactly sg_decide's on them (the fixture table and the differential fuzzer hold both to
 * the model); anything else returns 0 and goes the general way, which also gives the
 * malformed verdicts. Why a separate lane: the general parse carries state for VLAN tags,
 * truncation and levels that the compiler cannot drop, and these shapes are nearly all the
 * traffic (DESIGN §2's cost target is on them). */
static __always_inline int sg_decide_common(const struct sg_ctx *c, struct sg_decision *d) {
  void *data = c->data, *end = c->data_end;
  __u32 off = 0;
  __u8 next;
  if (c->l3) {
    next = c->l3_proto == SG_L3_IPV6 ? SG_NEXT_IPV6 : c->l3_proto == SG_L3_IPV4 ? SG_NEXT_IPV4 : 0;
  } else {
    struct ethhdr *eth = data;
    if ((void *)(eth + 1) > end) return 0;
    next = sg_next_of_ethertype(eth->h_proto);
    off = sizeof(*eth);
  }
  d->ip6_off = 0;
  d->has_ip6 = 0;
  d->reason = SG_REASON_NOT_6PN;
  d->verdict = SG_VERDICT_PASS;
  __u32 zero = 0;
  if (next == SG_NEXT_IPV4) {
    struct iphdr *ip4 = data + off;
    if ((void *)(ip4 + 1) > end) return 0;
    __u8 protocol = ip4->protocol;
    __u32 total = bpf_ntohs(ip4->tot_len);
    if (ip4->version != 4 || ip4->ihl != 5 || protocol == SG_NH_IPV6 || protocol == SG_NH_GRE ||
        total < sizeof(*ip4) || off + total > c->pkt_len)
      return 0;
    if (protocol != SG_NH_UDP) return 1; /* rule 1: carries no IPv6 */
    struct udphdr *udp = (void *)(ip4 + 1);
    if ((void *)(udp + 1) > end) return 0;
    __u16 port = bpf_ntohs(udp->dest);
    if (port == SG_UDP_PORT_VXLAN || port == SG_UDP_PORT_GENEVE) return 0;
    const struct sg_config *config = bpf_map_lookup_elem(&sg_config, &zero);
    /* Only a configured port is left to rule out; the list is read only when non-empty. */
    if (!config || sg_is_configured_encap_port(config, port)) return 0;
    return 1;
  }
  if (next != SG_NEXT_IPV6) return 0;
  struct ipv6hdr *ip6 = data + off;
  if ((void *)(ip6 + 1) > end) return 0;
  if (ip6->nexthdr == SG_NH_IPV6) return sg_decide_common_6in6(c, d, ip6, off);
  __u8 nh = ip6->nexthdr;
  __u16 port = 0;
  if (nh == SG_NH_UDP) {
    struct udphdr *udp = (void *)(ip6 + 1);
    if ((void *)(udp + 1) > end) return 0;
    port = bpf_ntohs(udp->dest);
    if (port == SG_UDP_PORT_VXLAN || port == SG_UDP_PORT_GENEVE) return 0;
  } else if (nh != SG_NH_TCP && nh != SG_NH_ICMPV6) {
    return 0;
  }
  /* Consistency (rule 2): a jumbo or empty payload, or one the frame does not hold, goes the
   * general way to be malformed. pkt_len covers the header: it was read in place. */
  __u32 payload = bpf_ntohs(ip6->payload_len);
  if (ip6->version != 6 || payload == 0 || payload > c->pkt_len - off - sizeof(*ip6)) return 0;
  struct sg_env env = {.config = bpf_map_lookup_elem(&sg_config, &zero), .machine_known = 0};
  if (!env.config) return 0;
  if (nh == SG_NH_UDP && sg_is_configured_encap_port(env.config, port)) return 0;
  __u8 reason = sg_rules(c, &env, ip6);
  if (sg_reason_drops(reason)) {
    struct sg_walk w = {};
    sg_level_drops(c, &env, &w, d, reason, 1, off);
    return 1;
  }
  d->reason = reason;
  return 1;
}

/* What the in-place parse of the outer headers found. */
struct sg_outer {
  void *hdr;  /* the outer IP header, in the packet; NULL unless status is OK */
  __u32 off;  /* its offset from data */
  int status; /* SG_PARSE_*, or SG_OUTER_NOT_IP */
  __u8 next;  /* SG_NEXT_IPV6 or SG_NEXT_IPV4: what hdr is */
};

#define SG_OUTER_NOT_IP (-1)

/* Rule 1 and the first part of 2: Ethernet, VLAN tags and the outer IP header, read in place.
 * This is the only part that needs the bytes in the linear area of an skb. */
static __always_inline void sg_parse_outer(const struct sg_ctx *c, struct sg_outer *o) {
  struct sg_cursor cur = {.pos = c->data, .end = c->data_end};
  o->hdr = NULL;
  o->off = 0;
  o->next = SG_NEXT_END;
  __be16 proto = 0;
  if (c->l3) {
    proto = c->l3_proto == SG_L3_IPV6   ? bpf_htons(ETH_P_IPV6)
            : c->l3_proto == SG_L3_IPV4 ? bpf_htons(ETH_P_IP)
                                        : 0;
  } else {
    o->status = sg_parse_eth(&cur, c->vlan_outside, &proto);
    if (o->status != SG_PARSE_OK) return;
  }
  o->next = sg_next_of_ethertype(proto);
  if (o->next == SG_NEXT_END) {
    o->status = SG_OUTER_NOT_IP; /* ARP, MPLS, PPPoE, ... */
    return;
  }
  o->off = (__u32)(cur.pos - c->data);
  /* Two takes with constant sizes: the verifier learns each header's range exactly. */
  if (o->next == SG_NEXT_IPV6)
    o->hdr = sg_cursor_take(&cur, sizeof(struct ipv6hdr));
  else
    o->hdr = sg_cursor_take(&cur, sizeof(struct iphdr));
  o->status = o->hdr ? SG_PARSE_OK : SG_PARSE_TRUNCATED;
}

/* The UDP destination port right after the outer header, read in place when the linear area
 * holds it (the common case), so that plain UDP pays no helper call. Returns 0 when it cannot
 * be read in place (the walk then reads it with sg_load). */
static __always_inline __u16 sg_outer_udp_port(const struct sg_ctx *c, const void *l4) {
  const struct udphdr *udp = l4;
  if ((const void *)(udp + 1) > c->data_end) return 0;
  return bpf_ntohs(udp->dest);
}

/* Every level of the packet, outermost first, at most SG_LEVEL_LIMIT. The outer header is
 * read in place (the fast path); inner headers are copied out with sg_load. Final verdict
 * (DESIGN §2, audit with encapsulation): the first enforcing drop; else the first audited
 * drop; else pass with the first IPv6 level's reason (not_6pn when there is none). */
static __always_inline void sg_decide(const struct sg_ctx *c, const struct sg_outer *o,
                                      struct sg_decision *d) {
  d->ip6_off = 0;
  d->has_ip6 = 0;
  d->reason = SG_REASON_NOT_6PN;
  d->verdict = SG_VERDICT_PASS;
  if (o->status == SG_OUTER_NOT_IP) return; /* rule 1 */

  __u32 zero = 0;
  struct sg_env env = {.config = bpf_map_lookup_elem(&sg_config, &zero), .machine_known = 0};
  struct sg_walk w = {};
  /* Never taken (a one-element array always has element 0), but the verifier must see the
   * check before any use: kernels before 5.13 refuse arithmetic on a pointer that may be NULL,
   * and the compiler hoists &config->encap_udp_ports out of loops. Fail closed. */
  if (!env.config) {
    d->verdict = SG_VERDICT_DROP;
    d->reason = SG_REASON_MALFORMED;
    return;
  }
  if (o->status != SG_PARSE_OK || !o->hdr) {
    sg_level_malformed(c, &env, &w, d);
    return;
  }

  /* Level 1, in place. */
  __u32 off = o->off;
  __u8 next = SG_NEXT_END;
  if (o->next == SG_NEXT_IPV6) {
    const struct ipv6hdr *ip6 = o->hdr;
    /* Plain UDP right after the header: no tunnel, no helper call for the port. */
    if (ip6->nexthdr == SG_NH_UDP && ip6->version == 6) {
      __u16 port = sg_outer_udp_port(c, ip6 + 1);
      if (port && !sg_is_encap_port(env.config, port)) {
        /* Same checks as sg_level_ipv6 without the walk: nothing follows. */
        __u32 payload = bpf_ntohs(ip6->payload_len);
        if (payload == 0 || payload > c->pkt_len - off - sizeof(*ip6)) {
          w.has_last_ip6 = 1;
          w.last_ip6_off = off;
          sg_level_malformed(c, &env, &w, d);
          return;
        }
        __u8 reason = sg_rules(c, &env, ip6);
        if (sg_reason_drops(reason))
          sg_level_drops(c, &env, &w, d, reason, 1, off);
        else
          d->reason = reason;
        return;
      }
    }
    sg_level_ipv6(c, &env, &w, d, ip6, &off, &next);
  } else {
    const struct iphdr *ip4 = o->hdr;
    /* The common IPv4 not_6pn cases, without a helper call: a protocol that carries no
     * tunnel, or UDP to a port that is not an encapsulation port. */
    __u8 protocol = ip4->protocol;
    if (ip4->version == 4 && ip4->ihl == 5 && protocol != SG_NH_IPV6 && protocol != SG_NH_GRE) {
      __u16 port = protocol == SG_NH_UDP ? sg_outer_udp_port(c, ip4 + 1) : 1;
      __u32 total = bpf_ntohs(ip4->tot_len);
      if (port && !sg_is_encap_port(env.config, port) && total >= sizeof(*ip4) &&
          off + total <= c->pkt_len)
        return;
    }
    sg_level_ipv4(c, &env, &w, d, ip4, &off, &next);
  }

  /* Levels 2 and 3, copied out; a level the walk would reach after them is malformed. */
  for (int level = 2; level <= SG_LEVEL_LIMIT + 1; level++) {
    if (w.done || next == SG_NEXT_END) break;
    if (level > SG_LEVEL_LIMIT) {
      sg_level_malformed(c, &env, &w, d);
      break;
    }
    if (next == SG_NEXT_IPV6) {
      struct ipv6hdr ip6;
      if (sg_load(c, off, &ip6, sizeof(ip6))) {
        sg_level_malformed(c, &env, &w, d);
        break;
      }
      sg_level_ipv6(c, &env, &w, d, &ip6, &off, &next);
    } else {
      struct iphdr ip4;
      if (sg_load(c, off, &ip4, sizeof(ip4))) {
        sg_level_malformed(c, &env, &w, d);
        break;
      }
      sg_level_ipv4(c, &env, &w, d, &ip4, &off, &next);
    }
  }
  if (w.done || w.audited) return;
  if (w.has_first_ip6) d->reason = w.first_reason;
}

#endif /* SIXGUARD_BPF_CLASSIFY_H */
