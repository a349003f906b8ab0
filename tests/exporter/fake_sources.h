// In-memory sources for exporter tests: plain values the test changes between scrapes.
#pragma once

#include <utility>
#include <vector>

#include "exporter/sources.h"

namespace sixguard::exporter::test {

class FakeCounterSource final : public CounterSource {
 public:
  VerdictCounters counters{};
  MonitorEventStats monitor{};
  bool fail = false;
  int reads = 0;

  Result<VerdictCounters> verdict_counters() override {
    ++reads;
    if (fail) return make_error("sg_counters: lookup", 5);
    return counters;
  }
  Result<MonitorEventStats> monitor_event_stats() override {
    if (fail) return make_error("sg_event_stats: lookup", 5);
    return monitor;
  }

  void set(unsigned hook, unsigned verdict, unsigned reason, uint64_t packets, uint64_t bytes) {
    counters[SG_COUNTER_INDEX(hook, verdict, reason)] = sg_counter{packets, bytes};
  }
};

class FakeMapStatsSource final : public MapStatsSource {
 public:
  std::vector<MapUsage> usage;
  Result<std::vector<MapUsage>> map_usage() override { return usage; }
};

class FakeAttachmentSource final : public AttachmentSource {
 public:
  AttachedInterfaces attached{};
  AttachedInterfaces attached_interfaces() override { return attached; }
};

}  // namespace sixguard::exporter::test
