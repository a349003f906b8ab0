#include "exporter/datapath_collector.h"

#include <algorithm>
#include <string>
#include <utility>

#include "exporter/labels.h"
#include "exporter/metric_family.h"

namespace sixguard::exporter {

namespace {

using prometheus::ClientMetric;
using prometheus::MetricFamily;
using prometheus::MetricType;

constexpr std::array<std::string_view, 3> kErrorSourceNames = {"counters", "monitor_events",
                                                               "map_usage"};

}  // namespace

DatapathCollector::DatapathCollector(BuildInfo build, const Readiness &readiness)
    : build_(std::move(build)), readiness_(readiness) {}

void DatapathCollector::set_counter_source(std::shared_ptr<CounterSource> source) {
  std::lock_guard lock(sources_mutex_);
  counters_ = std::move(source);
}

void DatapathCollector::set_map_stats_source(std::shared_ptr<MapStatsSource> source) {
  std::lock_guard lock(sources_mutex_);
  maps_ = std::move(source);
}

void DatapathCollector::set_attachment_source(std::shared_ptr<AttachmentSource> source) {
  std::lock_guard lock(sources_mutex_);
  attachments_ = std::move(source);
}

std::vector<MetricFamily> DatapathCollector::Collect() const {
  std::shared_ptr<CounterSource> counters;
  std::shared_ptr<MapStatsSource> maps;
  std::shared_ptr<AttachmentSource> attachments;
  {
    // Copy the pointers and call the sources unlocked: a slow map read must not block
    // set_*_source.
    std::lock_guard lock(sources_mutex_);
    counters = counters_;
    maps = maps_;
    attachments = attachments_;
  }

  std::vector<MetricFamily> out;
  if (counters) {
    collect_counters(*counters, out);
    collect_monitor_events(*counters, out);
  }
  if (maps) collect_map_usage(*maps, out);
  if (attachments) collect_attachments(*attachments, out);

  auto build =
      family("sixguard_build_info",
             "sixguard version, source revision and running kernel; always 1", MetricType::Gauge);
  build.metric.push_back(gauge({label("version", build_.version),
                                label("revision", build_.revision), label("kernel", build_.kernel)},
                               1));
  out.push_back(std::move(build));

  out.push_back(single_sample("sixguard_ready",
                              "1 when the persisted state is in the maps and every known machine "
                              "interface that exists is attached (/readyz answers 200)",
                              MetricType::Gauge, readiness_.get().ready ? 1 : 0));

  out.push_back(error_family());
  return out;
}

void DatapathCollector::collect_counters(CounterSource &source,
                                         std::vector<MetricFamily> &out) const {
  auto read = source.verdict_counters();
  if (!counted_if_failed(read.ok(), kCounters)) return;
  auto packets = family("sixguard_packets_total", "Packets seen per hook, verdict and reason",
                        MetricType::Counter);
  auto bytes = family("sixguard_bytes_total", "Bytes seen per hook, verdict and reason",
                      MetricType::Counter);
  for (unsigned hook = 0; hook < SG_HOOK_COUNT; ++hook) {
    for (unsigned verdict = 0; verdict < SG_VERDICT_COUNT; ++verdict) {
      for (unsigned reason = 0; reason < SG_REASON_COUNT; ++reason) {
        const sg_counter &slot = (*read)[SG_COUNTER_INDEX(hook, verdict, reason)];
        std::vector<ClientMetric::Label> labels = {label("hook", kHookNames[hook]),
                                                   label("verdict", kVerdictNames[verdict]),
                                                   label("reason", kReasonNames[reason])};
        packets.metric.push_back(counter(labels, static_cast<double>(slot.packets)));
        bytes.metric.push_back(counter(std::move(labels), static_cast<double>(slot.bytes)));
      }
    }
  }
  out.push_back(std::move(packets));
  out.push_back(std::move(bytes));
}

void DatapathCollector::collect_monitor_events(CounterSource &source,
                                               std::vector<MetricFamily> &out) const {
  auto read = source.monitor_event_stats();
  if (!counted_if_failed(read.ok(), kMonitorEvents)) return;
  auto events = family("sixguard_monitor_events_total",
                       "Drop/audit events for the monitor: sent to the ring buffer, "
                       "rate_limited, or lost because the ring buffer was full",
                       MetricType::Counter);
  for (unsigned stat = 0; stat < SG_EVSTAT_COUNT; ++stat) {
    events.metric.push_back(
        counter({label("result", kMonitorResultNames[stat])}, static_cast<double>((*read)[stat])));
  }
  out.push_back(std::move(events));
}

void DatapathCollector::collect_map_usage(MapStatsSource &source,
                                          std::vector<MetricFamily> &out) const {
  auto read = source.map_usage();
  if (!counted_if_failed(read.ok(), kMapUsage)) return;
  auto entries =
      family("sixguard_map_entries", "Entries currently in each BPF map", MetricType::Gauge);
  auto capacity = family("sixguard_map_capacity", "max_entries of each BPF map", MetricType::Gauge);
  // In kMapLabels order, each map at most once, unknown labels dropped: bounded and stable.
  for (const MapLabel &known : kMapLabels) {
    const std::string_view name = known.label;
    auto usage = std::find_if(read->begin(), read->end(),
                              [&](const MapUsage &candidate) { return candidate.map == name; });
    if (usage == read->end()) continue;
    entries.metric.push_back(gauge({label("map", name)}, static_cast<double>(usage->entries)));
    capacity.metric.push_back(gauge({label("map", name)}, static_cast<double>(usage->capacity)));
  }
  out.push_back(std::move(entries));
  out.push_back(std::move(capacity));
}

void DatapathCollector::collect_attachments(AttachmentSource &source,
                                            std::vector<MetricFamily> &out) const {
  const AttachedInterfaces attached = source.attached_interfaces();
  auto interfaces = family("sixguard_attached_interfaces",
                           "Interfaces carrying a sixguard program, per hook", MetricType::Gauge);
  for (unsigned hook = 0; hook < SG_HOOK_COUNT; ++hook) {
    interfaces.metric.push_back(
        gauge({label("hook", kHookNames[hook])}, static_cast<double>(attached[hook])));
  }
  out.push_back(std::move(interfaces));
}

bool DatapathCollector::counted_if_failed(bool ok, ErrorSource source) const {
  if (!ok) errors_[source].fetch_add(1, std::memory_order_relaxed);
  return ok;
}

MetricFamily DatapathCollector::error_family() const {
  auto errors = family("sixguard_scrape_errors_total",
                       "Scrapes at which a source could not be read; its series were left out",
                       MetricType::Counter);
  for (unsigned source = 0; source < kErrorSourceCount; ++source) {
    errors.metric.push_back(
        counter({label("source", kErrorSourceNames[source])},
                static_cast<double>(errors_[source].load(std::memory_order_relaxed))));
  }
  return errors;
}

}  // namespace sixguard::exporter
