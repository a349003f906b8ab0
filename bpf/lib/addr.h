/* SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause) */
/* The address model of DESIGN §1 as cheap word compares on addresses in network byte order. */
#ifndef SIXGUARD_BPF_ADDR_H
#define SIXGUARD_BPF_ADDR_H

#include <linux/in6.h>
#include <bpf/bpf_endian.h>

#include "bpf/include/sixguard_shared.h"

/* Why may_alias: sg_in6 is a byte array; reading it (and in6_addr) as 32-bit words must not be
 * reordered by the compiler's type-based aliasing rules. */
typedef __u32 __attribute__((may_alias)) sg_word;
typedef __u16 __attribute__((may_alias)) sg_half;

static __always_inline __u32 sg_word_at(const void *address, int index) {
  return ((const sg_word *)address)[index];
}

/* fdaa::/16 */
static __always_inline int sg_is_6pn(const struct in6_addr *a) {
  return (sg_word_at(a, 0) & bpf_htonl(0xffff0000)) == bpf_htonl(0xfdaa0000);
}

/* The 32 bits after fdaa, in host order (as sg_machine.network_id and the agent hold it). */
static __always_inline __u32 sg_network_id(const struct in6_addr *a) {
  return (bpf_ntohl(sg_word_at(a, 0)) << 16) | (bpf_ntohl(sg_word_at(a, 1)) >> 16);
}

/* fe80::/10 */
static __always_inline int sg_is_link_local(const struct in6_addr *a) {
  return (sg_word_at(a, 0) & bpf_htonl(0xffc00000)) == bpf_htonl(0xfe800000);
}

/* ff00::/8 */
static __always_inline int sg_is_multicast(const struct in6_addr *a) {
  return (sg_word_at(a, 0) & bpf_htonl(0xff000000)) == bpf_htonl(0xff000000);
}

/* :: (DAD probes are sent from the unspecified address) */
static __always_inline int sg_is_unspecified(const struct in6_addr *a) {
  return (sg_word_at(a, 0) | sg_word_at(a, 1) | sg_word_at(a, 2) | sg_word_at(a, 3)) == 0;
}

/* The address is in the machine's /112 (its first 14 octets). */
static __always_inline int sg_in_machine_prefix(const struct in6_addr *a,
                                                const struct sg_machine *m) {
  return sg_word_at(a, 0) == sg_word_at(&m->prefix, 0) &&
         sg_word_at(a, 1) == sg_word_at(&m->prefix, 1) &&
         sg_word_at(a, 2) == sg_word_at(&m->prefix, 2) &&
         ((const sg_half *)a)[6] == ((const sg_half *)&m->prefix)[6];
}

#endif /* SIXGUARD_BPF_ADDR_H */
