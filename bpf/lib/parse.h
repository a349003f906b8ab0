/* SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause) */
/* Header parsing. The outer Ethernet/VLAN and IPv6 headers are read in place through a
 * bounds-checked cursor (the fast path: constant offsets, no helper call). Everything after
 * them (extension headers, tunnel headers, inner headers) is read with sg_load at a scalar
 * offset (see sg_load for why). Parsing never loops without a fixed bound. */
#ifndef SIXGUARD_BPF_PARSE_H
#define SIXGUARD_BPF_PARSE_H

#include <linux/bpf.h>
#include <linux/if_ether.h>
#include <linux/in.h>
#include <linux/ip.h>
#include <linux/ipv6.h>
#include <linux/udp.h>
#include <bpf/bpf_endian.h>
#include <bpf/bpf_helpers.h>

#include "bpf/include/sixguard_shared.h"
#include "bpf/lib/ctx.h"

/* Outcome of parsing one piece of the packet. TRUNCATED (the bytes ran out) is kept apart
 * from MALFORMED so that TC can pull a non-linear skb and try again; both are drop/malformed
 * in the end. */
enum sg_parse_status {
  SG_PARSE_OK = 0,
  SG_PARSE_MALFORMED = 1,
  SG_PARSE_TRUNCATED = 2,
};

/* In-place reads of the outer headers: offsets are small constants on every path. */
struct sg_cursor {
  void *pos;
  void *end;
};

/* Returns a pointer to the next n bytes and advances, or NULL when fewer than n remain. The
 * one comparison with data_end: the verifier learns the range of the returned pointer. */
static __always_inline void *sg_cursor_take(struct sg_cursor *cur, __u32 n) {
  void *start = cur->pos;
  if (start + n > cur->end) return NULL;
  cur->pos = start + n;
  return start;
}

struct sg_vlan_hdr {
  __be16 tci;
  __be16 encapsulated_proto;
};

#define SG_ETH_P_8021Q 0x8100
#define SG_ETH_P_8021AD 0x88a8
#define SG_ETH_P_TEB 0x6558 /* GRE: transparent Ethernet bridging */
#define SG_VLAN_MAX 2       /* 802.1Q and QinQ; a third tag is malformed */

static __always_inline int sg_is_vlan(__be16 proto) {
  return proto == bpf_htons(SG_ETH_P_8021Q) || proto == bpf_htons(SG_ETH_P_8021AD);
}

/* The outer Ethernet header and up to two VLAN tags, in place. VLAN tags are only stepped
 * over: the check runs on whatever they carry. */
static __always_inline int sg_parse_eth(struct sg_cursor *cur, __u8 tags_outside, __be16 *proto) {
  struct ethhdr *eth = sg_cursor_take(cur, sizeof(*eth));
  if (!eth) return SG_PARSE_TRUNCATED;
  __be16 type = eth->h_proto;
#pragma unroll
  for (int tag = 0; tag < SG_VLAN_MAX; tag++) {
    if (tag + tags_outside >= SG_VLAN_MAX || !sg_is_vlan(type)) break;
    struct sg_vlan_hdr *vlan = sg_cursor_take(cur, sizeof(*vlan));
    if (!vlan) return SG_PARSE_TRUNCATED;
    type = vlan->encapsulated_proto;
  }
  if (sg_is_vlan(type)) return SG_PARSE_MALFORMED;
  *proto = type;
  return SG_PARSE_OK;
}

/* The same for an inner frame (GRE TEB, VXLAN, Geneve), read with sg_load at *off. */
static __always_inline int sg_load_eth(const struct sg_ctx *c, __u32 *off, __be16 *proto) {
  struct ethhdr eth;
  if (sg_load(c, *off, &eth, sizeof(eth))) return SG_PARSE_TRUNCATED;
  *off += sizeof(eth);
  __be16 type = eth.h_proto;
#pragma unroll
  for (int tag = 0; tag < SG_VLAN_MAX; tag++) {
    if (!sg_is_vlan(type)) break;
    struct sg_vlan_hdr vlan;
    if (sg_load(c, *off, &vlan, sizeof(vlan))) return SG_PARSE_TRUNCATED;
    *off += sizeof(vlan);
    type = vlan.encapsulated_proto;
  }
  if (sg_is_vlan(type)) return SG_PARSE_MALFORMED;
  *proto = type;
  return SG_PARSE_OK;
}

/* Next-header values the walk knows. */
#define SG_NH_HOPOPTS 0
#define SG_NH_IPV4 4
#define SG_NH_TCP 6
#define SG_NH_UDP 17
#define SG_NH_IPV6 41
#define SG_NH_ROUTING 43
#define SG_NH_FRAGMENT 44
#define SG_NH_GRE 47
#define SG_NH_ESP 50
#define SG_NH_AH 51
#define SG_NH_ICMPV6 58
#define SG_NH_NONE 59
#define SG_NH_DSTOPTS 60
#define SG_NH_MOBILITY 135

struct sg_ext_hdr {
  __u8 nexthdr;
  __u8 hdrlen;
};

struct sg_frag_hdr {
  __u8 nexthdr;
  __u8 reserved;
  __be16 frag_off; /* offset in the upper 13 bits, M flag in bit 0 */
  __be32 identification;
};

#define SG_FRAG_OFFSET_MASK 0xfff8
#define SG_FRAG_MORE 0x0001
#define SG_IP4_OFFSET_MASK 0x1fff

/* The mobility header (135) is stepped over like destination options: its second octet is
 * its length in 8-octet units minus 1, its first the next header ("payload proto", 59 in
 * practice, which ends the chain). */
static __always_inline int sg_is_ext_hdr(__u8 nh) {
  return nh == SG_NH_HOPOPTS || nh == SG_NH_ROUTING || nh == SG_NH_FRAGMENT ||
         nh == SG_NH_DSTOPTS || nh == SG_NH_AH || nh == SG_NH_MOBILITY;
}

/* What follows one level's IP header (and its chain and tunnel header): the next level. */
enum sg_next {
  SG_NEXT_END = 0,  /* transport, ESP, 59, non-IP inner frame, fragment payload: no level */
  SG_NEXT_IPV6 = 1, /* an IPv6 header at the offset: a level checked by the rules */
  SG_NEXT_IPV4 = 2, /* an IPv4 header at the offset: a level walked, not judged */
};

static __always_inline __u8 sg_next_of_ethertype(__be16 proto) {
  if (proto == bpf_htons(ETH_P_IPV6)) return SG_NEXT_IPV6;
  if (proto == bpf_htons(ETH_P_IP)) return SG_NEXT_IPV4;
  return SG_NEXT_END; /* ARP and other non-IP frames end the walk */
}

/* What a GRE or Geneve protocol field says follows the tunnel header at *off: IPv6, IPv4, or
 * (TEB) an Ethernet header, read here. Any other protocol is malformed. */
static __always_inline int sg_tunnel_protocol(const struct sg_ctx *c, __be16 protocol, __u32 *off,
                                              __u8 *next) {
  *next = sg_next_of_ethertype(protocol);
  if (*next != SG_NEXT_END) return SG_PARSE_OK;
  if (protocol != bpf_htons(SG_ETH_P_TEB)) return SG_PARSE_MALFORMED;
  __be16 inner = 0;
  int status = sg_load_eth(c, off, &inner);
  if (status != SG_PARSE_OK) return status;
  *next = sg_next_of_ethertype(inner);
  return SG_PARSE_OK;
}

/* GRE (RFC 2784/2890), accepted exactly as Linux's gre_parse_header accepts it: version 0
 * without routing; checksum, key and sequence number are optional 4-octet fields. */
struct sg_gre_hdr {
  __be16 flags;
  __be16 protocol;
};

#define SG_GRE_CSUM 0x8000
#define SG_GRE_ROUTING 0x4000
#define SG_GRE_KEY 0x2000
#define SG_GRE_SEQ 0x1000
#define SG_GRE_VERSION 0x0007

/* The GRE header at *off and, for TEB, the bridged Ethernet header: *next says what follows
 * at *off. GRE that cannot be parsed is malformed, never skipped. */
static __always_inline int sg_load_gre(const struct sg_ctx *c, __u32 *off, __u8 *next) {
  struct sg_gre_hdr gre;
  if (sg_load(c, *off, &gre, sizeof(gre))) return SG_PARSE_TRUNCATED;
  __u16 flags = bpf_ntohs(gre.flags);
  if (flags & (SG_GRE_VERSION | SG_GRE_ROUTING)) return SG_PARSE_MALFORMED;
  __u32 options = ((flags & SG_GRE_CSUM) ? 4 : 0) + ((flags & SG_GRE_KEY) ? 4 : 0) +
                  ((flags & SG_GRE_SEQ) ? 4 : 0);
  *off += sizeof(gre) + options;
  /* The optional fields must be there even when nothing after them is read. */
  __u8 last;
  if (options && sg_load(c, *off - 1, &last, sizeof(last))) return SG_PARSE_TRUNCATED;
  return sg_tunnel_protocol(c, gre.protocol, off, next);
}

/* Geneve (RFC 8926): version and option length (4-octet units) in the first octet, the
 * protocol of what follows the options in octets 2-3. */
struct sg_geneve_hdr {
  __u8 ver_opt_len;
  __u8 flags;
  __be16 protocol;
  __u8 vni[3];
  __u8 reserved;
};

#define SG_GENEVE_OPT_LEN_MASK 0x3f
#define SG_VXLAN_HDR_LEN 8

/* The UDP destination port is one whose payload is a tunnel: VXLAN, Geneve or a configured
 * encap_udp_ports entry. The configured list is read only when it is non-empty (default), so
 * plain UDP pays two compares. */
static __always_inline int sg_is_configured_encap_port(const struct sg_config *config, __u16 port) {
  if (!config) return 0;
  __u32 count = config->encap_udp_port_count;
  if (count == 0) return 0;
  for (int i = 0; i < SG_CFG_ENCAP_PORTS; i++) {
    if (i >= count) break;
    if (config->encap_udp_ports[i] == port) return 1;
  }
  return 0;
}

static __always_inline int sg_is_encap_port(const struct sg_config *config, __u16 port) {
  return port == SG_UDP_PORT_VXLAN || port == SG_UDP_PORT_GENEVE ||
         sg_is_configured_encap_port(config, port);
}

/* The UDP header at *off and, on an encapsulation port, the tunnel header and the inner
 * Ethernet header: *next says what follows at *off. The UDP header must be complete (its
 * port decides whether a tunnel follows). */
static __always_inline int sg_load_udp(const struct sg_ctx *c, const struct sg_config *config,
                                       __u32 *off, __u8 *next) {
  struct udphdr udp;
  if (sg_load(c, *off, &udp, sizeof(udp))) return SG_PARSE_TRUNCATED;
  __u16 port = bpf_ntohs(udp.dest);
  *off += sizeof(udp);
  /* VXLAN framing always carries Ethernet; Geneve says what it carries. */
  __be16 protocol = bpf_htons(SG_ETH_P_TEB);
  if (port == SG_UDP_PORT_GENEVE) {
    struct sg_geneve_hdr geneve;
    if (sg_load(c, *off, &geneve, sizeof(geneve))) return SG_PARSE_TRUNCATED;
    __u32 options = (__u32)(geneve.ver_opt_len & SG_GENEVE_OPT_LEN_MASK) * 4;
    *off += sizeof(geneve) + options;
    /* The options are this level's header: cut by the end of the frame, this level is
     * malformed, rather than the next level failing to load after this level's rules ran. */
    __u8 last;
    if (options && sg_load(c, *off - 1, &last, sizeof(last))) return SG_PARSE_TRUNCATED;
    protocol = geneve.protocol;
  } else if (port == SG_UDP_PORT_VXLAN || sg_is_configured_encap_port(config, port)) {
    *off += SG_VXLAN_HDR_LEN;
  } else {
    return SG_PARSE_OK; /* plain UDP */
  }
  return sg_tunnel_protocol(c, protocol, off, next);
}

/* The step from a level's last header (protocol nh at *off) to the next level. from_ipv4:
 * the level is IPv4, whose protocol 4 (IPIP) ends the walk (DESIGN: outer check only). */
static __always_inline int sg_step(const struct sg_ctx *c, const struct sg_config *config, __u8 nh,
                                   __u8 from_ipv4, __u32 *off, __u8 *next) {
  *next = SG_NEXT_END;
  if (nh == SG_NH_IPV6) {
    *next = SG_NEXT_IPV6;
    return SG_PARSE_OK;
  }
  if (nh == SG_NH_IPV4) {
    if (!from_ipv4) *next = SG_NEXT_IPV4;
    return SG_PARSE_OK;
  }
  if (nh == SG_NH_GRE) return sg_load_gre(c, off, next);
  if (nh == SG_NH_UDP) return sg_load_udp(c, config, off, next);
  return SG_PARSE_OK; /* transport, ESP, 59: nothing more */
}

/* The extension-header chain of the IPv6 header at ip6_off, which starts with next header *nh
 * at *off (at most SG_EXT_HDR_LIMIT headers). On SG_PARSE_OK, *nh is the protocol after the
 * chain at *off, and *opaque is set when nothing after the chain may be read (a non-first
 * fragment). end: one past the payload the IPv6 header claims. A header cut by the end of the
 * frame is SG_PARSE_TRUNCATED: the chain of a first fragment must be complete (RFC 8200). */
static __always_inline int sg_walk_chain(const struct sg_ctx *c, __u32 *off, __u32 end, __u8 *nh,
                                         __u8 *opaque) {
  __u8 next = *nh;
  __u8 fragments = 0;
  *opaque = 0;
  for (int i = 0; i < SG_EXT_HDR_LIMIT; i++) {
    if (!sg_is_ext_hdr(next)) break;
    if (next == SG_NH_FRAGMENT) {
      struct sg_frag_hdr frag;
      if (sg_load(c, *off, &frag, sizeof(frag))) return SG_PARSE_TRUNCATED;
      if (fragments) return SG_PARSE_MALFORMED; /* a second fragment header in one chain */
      fragments = 1;
      *off += sizeof(frag);
      /* A later fragment's payload is opaque: the walk stops, the addresses are checked. */
      if (frag.frag_off & bpf_htons(SG_FRAG_OFFSET_MASK)) {
        *opaque = 1;
        *nh = frag.nexthdr;
        return SG_PARSE_OK;
      }
      /* A first fragment with nothing after its fragment header cannot hold the header
       * chain (RFC 7112). */
      if ((frag.frag_off & bpf_htons(SG_FRAG_MORE)) && *off >= end) return SG_PARSE_MALFORMED;
      next = frag.nexthdr;
      continue;
    }
    struct sg_ext_hdr ext;
    if (sg_load(c, *off, &ext, sizeof(ext))) return SG_PARSE_TRUNCATED;
    /* AH counts its length in 4-octet units minus 2, the others in 8-octet units minus 1. */
    __u32 len = next == SG_NH_AH ? ((__u32)ext.hdrlen + 2) * 4 : ((__u32)ext.hdrlen + 1) * 8;
    /* A declared length running past the frame is a truncated header: probe its last byte. */
    __u8 last;
    if (sg_load(c, *off + len - 1, &last, sizeof(last))) return SG_PARSE_TRUNCATED;
    *off += len;
    next = ext.nexthdr;
  }
  if (sg_is_ext_hdr(next)) return SG_PARSE_MALFORMED; /* chain longer than the walk limit */
  *nh = next;
  return SG_PARSE_OK;
}

#endif /* SIXGUARD_BPF_PARSE_H */
