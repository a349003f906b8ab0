/* SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause) */
/* The verdict of DESIGN §2: one rule chain per hook, applied to the outer IPv6 header and to
 * every inner IPv6 header a tunnel carries. This is the one implementation: the hooks and
 * sg_explain all call sg_decide. */
#ifndef SIXGUARD_BPF_CLASSIFY_H
#define SIXGUARD_BPF_CLASSIFY_H

#include <linux/bpf.h>
#include <linux/if_ether.h>
#include <linux/ipv6.h>
#include <bpf/bpf_endian.h>
#include <bpf/bpf_helpers.h>

#include "sixguard_shared.h"
#include "lib/addr.h"
#include "lib/ctx.h"
#include "lib/maps.h"
#include "lib/parse.h"

/* A reason decides pass or drop by itself; the verdict is derived (and turned into audit
 * later, on the drop path only). */
static __always_inline int sg_reason_drops(__u8 reason) {
  return reason == SG_REASON_MALFORMED || reason == SG_REASON_SPOOFED_SOURCE ||
         reason == SG_REASON_NOT_FOR_MACHINE || reason == SG_REASON_CROSS_NETWORK;
}

/* What the rules read besides the packet, looked up once per packet. */
struct sg_env {
  const struct sg_config *config;   /* NULL only if the array lookup failed (never) */
  const struct sg_machine *machine; /* machine hooks: NULL when the interface is unknown */
};

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

/* machine_egress, rules 3-8 (rules 1-2 are the parser's). */
static __always_inline __u8 sg_rules_machine_egress(const struct sg_env *env,
                                                    const struct ipv6hdr *ip6) {
  const struct sg_machine *m = env->machine;
  const struct in6_addr *src = &ip6->saddr, *dst = &ip6->daddr;
  /* Fail closed: an interface with no sg_machines entry has no known /112, so no source
   * address is legitimate on it. */
  if (!m) return SG_REASON_SPOOFED_SOURCE;
  if (!sg_in_machine_prefix(src, m) && !sg_is_link_local(src) && !sg_is_unspecified(src))
    return SG_REASON_SPOOFED_SOURCE;
  if (!sg_is_6pn(dst)) return SG_REASON_NOT_6PN;
  if (sg_is_infra(env->config, dst)) return SG_REASON_INFRA;
  const struct sg_flycast *fc = sg_flycast_of(dst);
  if (fc && fc->target_app_id == m->app_id) return SG_REASON_FLYCAST;
  if (sg_network_id(dst) == m->network_id) return SG_REASON_SAME_NETWORK;
  return SG_REASON_CROSS_NETWORK;
}

/* machine_ingress, rules 3-8. */
static __always_inline __u8 sg_rules_machine_ingress(const struct sg_env *env,
                                                     const struct ipv6hdr *ip6) {
  const struct sg_machine *m = env->machine;
  const struct in6_addr *src = &ip6->saddr, *dst = &ip6->daddr;
  /* Fail closed: with no sg_machines entry nothing is known to be for this machine. */
  if (!m) return SG_REASON_NOT_FOR_MACHINE;
  if (!sg_in_machine_prefix(dst, m) && !sg_is_link_local(dst) && !sg_is_multicast(dst))
    return SG_REASON_NOT_FOR_MACHINE;
  if (!sg_is_6pn(src)) return SG_REASON_NOT_6PN;
  if (sg_is_infra(env->config, src)) return SG_REASON_INFRA;
  const struct sg_flycast *fc = sg_flycast_of(src);
  if (fc && fc->target_app_id == m->app_id) return SG_REASON_FLYCAST;
  if (sg_network_id(src) == m->network_id) return SG_REASON_SAME_NETWORK;
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
static __always_inline __u8 sg_rules(__u8 hook, const struct sg_env *env,
                                     const struct ipv6hdr *ip6) {
  if (hook == SG_HOOK_MACHINE_EGRESS) return sg_rules_machine_egress(env, ip6);
  if (hook == SG_HOOK_MACHINE_INGRESS) return sg_rules_machine_ingress(env, ip6);
  return sg_rules_uplink(env, ip6);
}

/* The decision on one packet, before audit mode is applied. */
struct sg_decision {
  /* Offset of the IPv6 header whose addresses the deciding check used (for a malformed
   * packet: the last IPv6 header that could be read), valid when has_ip6. An offset, not a
   * pointer: it survives bpf_skb_pull_data and is re-read only on the drop path. */
  __u32 ip6_off;
  /* The network whose SG_NET_AUDIT flag governs a drop, when the decision already knows it
   * (machine hooks: the machine's; uplink: the deciding header's destination), so the drop
   * path need not look it up again. */
  __u32 audit_net;
  __u8 audit_net_state; /* SG_AUDIT_NET_* */
  __u8 has_ip6;
  __u8 reason;
};

#define SG_AUDIT_NET_UNKNOWN 0 /* not worked out during the decision: look it up */
#define SG_AUDIT_NET_KNOWN 1   /* audit_net holds it */
#define SG_AUDIT_NET_NONE 2    /* there is none: only the global flag applies */

/* Truncated or unparseable (rule 2). Truncation in the outer headers of a non-linear skb is
 * handled before the decision (sg_decide_skb pulls); what is still cut here is malformed. */
static __always_inline void sg_decide_malformed(struct sg_decision *d) {
  d->reason = SG_REASON_MALFORMED;
}

/* Machine hooks: audit follows the machine's network (none on an unknown interface). */
static __always_inline void sg_decide_audit_net_of_machine(struct sg_decision *d,
                                                           const struct sg_machine *m) {
  if (m) {
    d->audit_net = m->network_id;
    d->audit_net_state = SG_AUDIT_NET_KNOWN;
  } else {
    d->audit_net_state = SG_AUDIT_NET_NONE;
  }
}

/* Uplink: audit follows net(D) of the header that decided the drop, when D is 6PN. */
static __always_inline void sg_decide_audit_net_of_header(const struct sg_ctx *c,
                                                          struct sg_decision *d,
                                                          const struct ipv6hdr *ip6) {
  if (c->hook != SG_HOOK_UPLINK) return;
  if (sg_is_6pn(&ip6->daddr)) {
    d->audit_net = sg_network_id(&ip6->daddr);
    d->audit_net_state = SG_AUDIT_NET_KNOWN;
  } else {
    d->audit_net_state = SG_AUDIT_NET_NONE;
  }
}

/* The deciding header's addresses, copied into *ip6; 0 when there is none. */
static __always_inline int sg_decision_header(const struct sg_ctx *c, const struct sg_decision *d,
                                              struct ipv6hdr *ip6) {
  if (!d->has_ip6) return 0;
  return sg_load(c, d->ip6_off, ip6, sizeof(*ip6)) == 0;
}

/* What the in-place parse of the outer headers found. */
struct sg_outer {
  struct ipv6hdr *ip6; /* the outer IPv6 header, in the packet; NULL unless status is OK */
  __u32 off;           /* its offset from data */
  int status;          /* SG_PARSE_*, or SG_OUTER_NOT_IPV6 */
};

#define SG_OUTER_NOT_IPV6 (-1)

/* Rules 1 and the first part of 2: Ethernet, VLAN tags and the outer IPv6 header, read in
 * place. This is the only part that needs the bytes in the linear area of an skb. */
static __always_inline void sg_parse_outer(const struct sg_ctx *c, struct sg_outer *o) {
  struct sg_cursor cur = {.pos = c->data, .end = c->data_end};
  o->ip6 = NULL;
  o->off = 0;
  if (c->l3) {
    if (!c->l3_ipv6) {
      o->status = SG_OUTER_NOT_IPV6;
      return;
    }
  } else {
    __be16 proto = 0;
    o->status = sg_parse_eth(&cur, &proto);
    if (o->status != SG_PARSE_OK) return;
    if (proto != bpf_htons(ETH_P_IPV6)) {
      o->status = SG_OUTER_NOT_IPV6; /* IPv4, ARP, ... */
      return;
    }
  }
  o->off = (__u32)(cur.pos - c->data);
  o->ip6 = sg_cursor_take(&cur, sizeof(*o->ip6));
  o->status = o->ip6 ? SG_PARSE_OK : SG_PARSE_TRUNCATED;
}

/* Rules 1-2 are parsing; then the hook's chain runs on the outer header and on each inner IPv6
 * header. Combined verdict: the first drop found, outer first; if all pass, the outer's
 * reason. A level is fully parsed (extension headers, tunnel header) before its rules run,
 * so a malformed level is malformed whatever its addresses say. */
static __always_inline void sg_decide(const struct sg_ctx *c, const struct sg_outer *o,
                                      struct sg_decision *d) {
  d->ip6_off = 0;
  d->audit_net = 0;
  d->audit_net_state = SG_AUDIT_NET_UNKNOWN;
  d->has_ip6 = 0;
  d->reason = SG_REASON_NOT_6PN;
  if (o->status == SG_OUTER_NOT_IPV6) return; /* rule 1 */
  if (o->status != SG_PARSE_OK || !o->ip6) {
    sg_decide_malformed(d);
    return;
  }
  const struct ipv6hdr *outer = o->ip6;
  __u32 off = o->off;
  d->ip6_off = off;
  d->has_ip6 = 1;
  if (outer->version != 6) {
    sg_decide_malformed(d);
    return;
  }
  off += sizeof(*outer);

  /* Looked up before the chain is walked so that a malformed chain's drop path already knows
   * the machine's network (audit); every well-formed packet needs them anyway. */
  __u32 zero = 0;
  struct sg_env env = {.config = bpf_map_lookup_elem(&sg_config, &zero), .machine = NULL};
  if (c->hook != SG_HOOK_UPLINK) {
    __u32 ifindex = c->ifindex;
    env.machine = bpf_map_lookup_elem(&sg_machines, &ifindex);
    sg_decide_audit_net_of_machine(d, env.machine);
  }

  __u8 payload = SG_PAYLOAD_END;
  int status = sg_walk_chain(c, &off, outer->nexthdr, &payload);
  if (status != SG_PARSE_OK) {
    sg_decide_malformed(d);
    return;
  }
  __u8 reason = sg_rules(c->hook, &env, outer);
  d->reason = reason;
  if (sg_reason_drops(reason)) {
    sg_decide_audit_net_of_header(c, d, outer);
    return;
  }
  if (payload != SG_PAYLOAD_IPV6) return;

    /* Inner IPv6 headers (tunnels), copied out: each gets the same rule chain. */
#pragma unroll
  for (int level = 1; level <= SG_ENCAP_LIMIT; level++) {
    struct ipv6hdr inner;
    if (sg_load(c, off, &inner, sizeof(inner))) {
      sg_decide_malformed(d);
      return;
    }
    d->ip6_off = off;
    if (inner.version != 6) {
      sg_decide_malformed(d);
      return;
    }
    off += sizeof(inner);
    status = sg_walk_chain(c, &off, inner.nexthdr, &payload);
    if (status != SG_PARSE_OK) {
      sg_decide_malformed(d);
      return;
    }
    __u8 inner_reason = sg_rules(c->hook, &env, &inner);
    if (sg_reason_drops(inner_reason)) {
      d->reason = inner_reason;
      sg_decide_audit_net_of_header(c, d, &inner);
      return;
    }
    if (payload != SG_PAYLOAD_IPV6) return; /* all passed: the outer's reason stands */
  }
  /* Another inner IPv6 header after SG_ENCAP_LIMIT of them: it cannot be checked. */
  sg_decide_malformed(d);
}

#endif /* SIXGUARD_BPF_CLASSIFY_H */
