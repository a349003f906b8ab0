/* SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause) */
/* What happens after the decision (which already applied audit mode): per-CPU counters and
 * rate-limited drop events. Everything here except the counter update runs on the drop path
 * only, so passing packets pay for one per-CPU array increment. */
#ifndef SIXGUARD_BPF_ACCOUNT_H
#define SIXGUARD_BPF_ACCOUNT_H

#include <linux/bpf.h>
#include <bpf/bpf_helpers.h>

#include "bpf/include/sixguard_shared.h"
#include "bpf/lib/addr.h"
#include "bpf/lib/classify.h"
#include "bpf/lib/ctx.h"
#include "bpf/lib/maps.h"

/* The deciding level's addresses, copied into *ip6; 0 when there is none. */
static __always_inline int sg_decision_header(const struct sg_ctx *c, const struct sg_decision *d,
                                              struct ipv6hdr *ip6) {
  if (!d->has_ip6) return 0;
  return sg_load(c, d->ip6_off, ip6, sizeof(*ip6)) == 0;
}

static __always_inline void sg_count(__u8 hook, __u8 verdict, __u8 reason, __u32 len) {
  __u32 slot = SG_COUNTER_INDEX(hook, verdict, reason);
  struct sg_counter *counter = bpf_map_lookup_elem(&sg_counters, &slot);
  /* Per-CPU slot: this CPU is its only writer, so plain increments are exact. */
  if (counter) {
    counter->packets += 1;
    counter->bytes += len;
  }
}

static __always_inline void sg_event_stat(__u32 which) {
  __u64 *value = bpf_map_lookup_elem(&sg_event_stats, &which);
  if (value) *value += 1;
}

#define SG_NSEC_PER_SEC 1000000000ull
#define SG_MILLI 1000ull

/* Per-CPU token bucket: events_per_sec tokens a second, at most events_burst stored (a burst of
 * 0 is read as 1, so a non-zero rate always lets events through). Tokens are kept x1000 and
 * the time that bought the credited tokens is consumed exactly, so frequent drops do not lose
 * the fractional refill. Divisions are fine here: this is the drop path. */
static __always_inline int sg_ratelimit_take(const struct sg_config *config) {
  __u32 zero = 0;
  struct sg_ratelimit *bucket = bpf_map_lookup_elem(&sg_ratelimit, &zero);
  if (!bucket) return 0;
  __u64 rate = config->events_per_sec;
  __u64 depth = (__u64)(config->events_burst ? config->events_burst : 1) * SG_MILLI;
  /* The coarse clock (a tick's resolution) is enough for a bucket that consumes the time it
   * credits exactly, and costs a fraction of the precise one on a drop flood (issue 14). */
  __u64 now = sg_coarse_clock ? bpf_ktime_get_coarse_ns() : bpf_ktime_get_ns();
  /* Never negative: the other clock (an agent that chose differently) may have written a
   * later last_ns; no refill until this clock passes it. */
  if (now < bucket->last_ns) now = bucket->last_ns;
  __u64 elapsed = now - bucket->last_ns;
  __u64 tokens = bucket->tokens_milli;
  /* Fast refusal for a drop flood, without a division: the bucket holds less than a token
   * and the time since the last refill does not buy the missing part. (elapsed < 2^32 keeps
   * elapsed * rate within 64 bits.) */
  if (tokens < SG_MILLI && elapsed < (1ull << 32) &&
      elapsed * rate < (SG_MILLI - tokens) * (SG_NSEC_PER_SEC / SG_MILLI))
    return 0;
  /* Time to fill an empty bucket; bounding elapsed by it keeps elapsed * rate in 64 bits. */
  __u64 fill_ns = depth * (SG_NSEC_PER_SEC / SG_MILLI) / rate + 1;
  if (elapsed >= fill_ns) {
    tokens = depth;
    bucket->last_ns = now;
  } else {
    __u64 added = elapsed * rate / (SG_NSEC_PER_SEC / SG_MILLI);
    if (added) {
      tokens += added;
      bucket->last_ns += added * (SG_NSEC_PER_SEC / SG_MILLI) / rate;
    }
    if (tokens >= depth) {
      tokens = depth;
      bucket->last_ns = now;
    }
  }
  if (tokens < SG_MILLI) {
    bucket->tokens_milli = tokens;
    return 0;
  }
  bucket->tokens_milli = tokens - SG_MILLI;
  return 1;
}

/* A drop or audit verdict to the ring buffer for `sixguard monitor`. */
static __always_inline void sg_emit_event(const struct sg_ctx *c, const struct sg_decision *d,
                                          __u8 verdict) {
  __u32 zero = 0;
  const struct sg_config *config = bpf_map_lookup_elem(&sg_config, &zero);
  if (!config || config->events_per_sec == 0) return; /* events off */
  if (!sg_ratelimit_take(config)) {
    sg_event_stat(SG_EVSTAT_RATE_LIMITED);
    return;
  }
  struct sg_drop_event *event = bpf_ringbuf_reserve(&sg_events, sizeof(*event), 0);
  if (!event) {
    sg_event_stat(SG_EVSTAT_RINGBUF_FULL);
    return;
  }
  event->timestamp_ns = bpf_ktime_get_ns();
  struct ipv6hdr ip6;
  if (sg_decision_header(c, d, &ip6)) {
    __builtin_memcpy(&event->src, &ip6.saddr, sizeof(event->src));
    __builtin_memcpy(&event->dst, &ip6.daddr, sizeof(event->dst));
  } else {
    __builtin_memset(&event->src, 0, sizeof(event->src));
    __builtin_memset(&event->dst, 0, sizeof(event->dst));
  }
  event->ifindex = sg_ctx_ifindex(c);
  event->packet_len = c->count_len;
  event->hook = c->hook;
  event->verdict = verdict;
  event->reason = d->reason;
  __builtin_memset(event->pad, 0, sizeof(event->pad));
  bpf_ringbuf_submit(event, 0);
  sg_event_stat(SG_EVSTAT_SENT);
}

/* Counts the packet and, for drops and audits, reports it. Returns the verdict. */
static __always_inline __u8 sg_account(const struct sg_ctx *c, const struct sg_decision *d) {
  __u8 verdict = d->verdict;
  sg_count(c->hook, verdict, d->reason, c->count_len);
  if (verdict != SG_VERDICT_PASS) sg_emit_event(c, d, verdict);
  return verdict;
}

#endif /* SIXGUARD_BPF_ACCOUNT_H */
