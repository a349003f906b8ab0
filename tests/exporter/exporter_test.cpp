// Exporter unit tests with fake sources: no root, no sockets.
#include <gtest/gtest.h>

#include <memory>
#include <regex>
#include <set>
#include <string>
#include <thread>
#include <vector>

#include "exporter/exporter.h"
#include "tests/exporter/exposition.h"
#include "tests/exporter/fake_sources.h"
#include "exporter/labels.h"

namespace sixguard::exporter {
namespace {

using test::count_samples;
using test::FakeAttachmentSource;
using test::FakeCounterSource;
using test::FakeMapStatsSource;
using test::find_sample;
using test::parse_exposition;

class ExporterTest : public ::testing::Test {
 protected:
  ExporterTest() : exporter_(BuildInfo{"9.9.9", "6.1.0-test", "0123456789ab-dirty"}) {
    exporter_.set_counter_source(counters_);
    exporter_.set_map_stats_source(maps_);
    exporter_.set_attachment_source(attachments_);
  }

  std::vector<test::Sample> scrape() { return parse_exposition(exporter_.scrape()); }

  std::shared_ptr<FakeCounterSource> counters_ = std::make_shared<FakeCounterSource>();
  std::shared_ptr<FakeMapStatsSource> maps_ = std::make_shared<FakeMapStatsSource>();
  std::shared_ptr<FakeAttachmentSource> attachments_ = std::make_shared<FakeAttachmentSource>();
  Exporter exporter_;
};

TEST_F(ExporterTest, EveryHookVerdictReasonSeriesIsPresentAtZero) {
  const auto samples = scrape();
  EXPECT_EQ(count_samples(samples, "sixguard_packets_total"), 3u * 3u * 8u);
  EXPECT_EQ(count_samples(samples, "sixguard_bytes_total"), 3u * 3u * 8u);
  for (auto hook : kHookNames) {
    for (auto verdict : kVerdictNames) {
      for (auto reason : kReasonNames) {
        const std::map<std::string, std::string> labels = {{"hook", std::string(hook)},
                                                           {"verdict", std::string(verdict)},
                                                           {"reason", std::string(reason)}};
        EXPECT_EQ(find_sample(samples, "sixguard_packets_total", labels), 0.0)
            << hook << "/" << verdict << "/" << reason;
        EXPECT_EQ(find_sample(samples, "sixguard_bytes_total", labels), 0.0);
      }
    }
  }
}

TEST_F(ExporterTest, LabelValuesAreTheContractNames) {
  EXPECT_EQ(kHookNames[SG_HOOK_MACHINE_EGRESS], "machine_egress");
  EXPECT_EQ(kHookNames[SG_HOOK_MACHINE_INGRESS], "machine_ingress");
  EXPECT_EQ(kHookNames[SG_HOOK_UPLINK], "uplink");
  EXPECT_EQ(kVerdictNames[SG_VERDICT_PASS], "pass");
  EXPECT_EQ(kVerdictNames[SG_VERDICT_DROP], "drop");
  EXPECT_EQ(kVerdictNames[SG_VERDICT_AUDIT], "audit");
  EXPECT_EQ(kReasonNames[SG_REASON_NOT_6PN], "not_6pn");
  EXPECT_EQ(kReasonNames[SG_REASON_MALFORMED], "malformed");
  EXPECT_EQ(kReasonNames[SG_REASON_SPOOFED_SOURCE], "spoofed_source");
  EXPECT_EQ(kReasonNames[SG_REASON_NOT_FOR_MACHINE], "not_for_machine");
  EXPECT_EQ(kReasonNames[SG_REASON_INFRA], "infra");
  EXPECT_EQ(kReasonNames[SG_REASON_FLYCAST], "flycast");
  EXPECT_EQ(kReasonNames[SG_REASON_SAME_NETWORK], "same_network");
  EXPECT_EQ(kReasonNames[SG_REASON_CROSS_NETWORK], "cross_network");
}

TEST_F(ExporterTest, CountersAreReadFromTheSourceAtEachScrape) {
  counters_->set(SG_HOOK_MACHINE_EGRESS, SG_VERDICT_DROP, SG_REASON_CROSS_NETWORK, 3, 312);
  counters_->set(SG_HOOK_UPLINK, SG_VERDICT_AUDIT, SG_REASON_SPOOFED_SOURCE, 1, 90);
  const std::map<std::string, std::string> egress_drop = {
      {"hook", "machine_egress"}, {"verdict", "drop"}, {"reason", "cross_network"}};
  const std::map<std::string, std::string> uplink_audit = {
      {"hook", "uplink"}, {"verdict", "audit"}, {"reason", "spoofed_source"}};

  auto first = scrape();
  EXPECT_EQ(find_sample(first, "sixguard_packets_total", egress_drop), 3.0);
  EXPECT_EQ(find_sample(first, "sixguard_bytes_total", egress_drop), 312.0);
  EXPECT_EQ(find_sample(first, "sixguard_packets_total", uplink_audit), 1.0);
  EXPECT_EQ(find_sample(first, "sixguard_bytes_total", uplink_audit), 90.0);
  const int reads_after_first = counters_->reads;

  counters_->set(SG_HOOK_MACHINE_EGRESS, SG_VERDICT_DROP, SG_REASON_CROSS_NETWORK, 7, 728);
  auto second = scrape();
  EXPECT_EQ(find_sample(second, "sixguard_packets_total", egress_drop), 7.0);
  EXPECT_EQ(find_sample(second, "sixguard_bytes_total", egress_drop), 728.0);
  EXPECT_EQ(counters_->reads, reads_after_first + 1) << "one read per scrape, none between";
}

TEST_F(ExporterTest, MonitorEventStatsAreExportedByResult) {
  counters_->monitor = {10, 4, 2};
  auto samples = scrape();
  EXPECT_EQ(find_sample(samples, "sixguard_monitor_events_total", {{"result", "sent"}}), 10.0);
  EXPECT_EQ(find_sample(samples, "sixguard_monitor_events_total", {{"result", "rate_limited"}}),
            4.0);
  EXPECT_EQ(find_sample(samples, "sixguard_monitor_events_total", {{"result", "lost"}}), 2.0);
  counters_->monitor[SG_EVSTAT_RINGBUF_FULL] = 5;
  samples = scrape();
  EXPECT_EQ(find_sample(samples, "sixguard_monitor_events_total", {{"result", "lost"}}), 5.0);
}

TEST_F(ExporterTest, MapEntriesAndCapacityPerKnownMapOnly) {
  maps_->usage = {{"machines", 12, 16384},
                  {"flycast", 3, 65536},
                  {"sg_counters", 72, 72},   // an array: cannot fill, not exported
                  {"fdaa:2:45b::1", 1, 1}};  // not a map name: must not become a label
  auto samples = scrape();
  EXPECT_EQ(find_sample(samples, "sixguard_map_entries", {{"map", "machines"}}), 12.0);
  EXPECT_EQ(find_sample(samples, "sixguard_map_capacity", {{"map", "machines"}}), 16384.0);
  EXPECT_EQ(find_sample(samples, "sixguard_map_entries", {{"map", "flycast"}}), 3.0);
  EXPECT_EQ(find_sample(samples, "sixguard_map_capacity", {{"map", "flycast"}}), 65536.0);
  EXPECT_EQ(find_sample(samples, "sixguard_map_entries", {{"map", "sg_counters"}}), std::nullopt);
  EXPECT_EQ(count_samples(samples, "sixguard_map_entries"), 2u);
  EXPECT_EQ(count_samples(samples, "sixguard_map_capacity"), 2u);

  maps_->usage[0].entries = 13;
  samples = scrape();
  EXPECT_EQ(find_sample(samples, "sixguard_map_entries", {{"map", "machines"}}), 13.0);
}

TEST_F(ExporterTest, AttachedInterfacesPerHook) {
  attachments_->attached = {4, 4, 1};
  auto samples = scrape();
  EXPECT_EQ(find_sample(samples, "sixguard_attached_interfaces", {{"hook", "machine_egress"}}),
            4.0);
  EXPECT_EQ(find_sample(samples, "sixguard_attached_interfaces", {{"hook", "machine_ingress"}}),
            4.0);
  EXPECT_EQ(find_sample(samples, "sixguard_attached_interfaces", {{"hook", "uplink"}}), 1.0);
  attachments_->attached[SG_HOOK_UPLINK] = 0;
  samples = scrape();
  EXPECT_EQ(find_sample(samples, "sixguard_attached_interfaces", {{"hook", "uplink"}}), 0.0);
}

TEST_F(ExporterTest, BuildInfoAndReadiness) {
  auto samples = scrape();
  EXPECT_EQ(
      find_sample(
          samples, "sixguard_build_info",
          {{"version", "9.9.9"}, {"revision", "0123456789ab-dirty"}, {"kernel", "6.1.0-test"}}),
      1.0);
  EXPECT_EQ(find_sample(samples, "sixguard_ready", {}), 0.0);
  exporter_.readiness().set_ready();
  EXPECT_EQ(find_sample(scrape(), "sixguard_ready", {}), 1.0);
  exporter_.readiness().set_not_ready("interface tap1 not attached");
  EXPECT_EQ(find_sample(scrape(), "sixguard_ready", {}), 0.0);
}

TEST(BuildInfoTest, CurrentNamesTheProjectVersionTheRevisionAndTheRunningKernel) {
  const BuildInfo info = BuildInfo::current();
  EXPECT_FALSE(info.version.empty());
#if SIXGUARD_TEST_FROM_GIT
  // Built from a git checkout: a commit, not the fallback.
  EXPECT_TRUE(std::regex_match(info.revision, std::regex("[0-9a-f]{12}(-dirty)?")))
      << info.revision;
#else
  EXPECT_FALSE(info.revision.empty());
#endif
  EXPECT_NE(info.kernel, "unknown");
  EXPECT_FALSE(info.kernel.empty());
}

TEST_F(ExporterTest, AFailingSourceLeavesItsSeriesOutAndCountsAnError) {
  counters_->fail = true;
  auto samples = scrape();
  EXPECT_EQ(count_samples(samples, "sixguard_packets_total"), 0u);
  EXPECT_EQ(count_samples(samples, "sixguard_monitor_events_total"), 0u);
  EXPECT_EQ(find_sample(samples, "sixguard_scrape_errors_total", {{"source", "counters"}}), 1.0);
  EXPECT_EQ(find_sample(samples, "sixguard_scrape_errors_total", {{"source", "monitor_events"}}),
            1.0);
  EXPECT_EQ(find_sample(samples, "sixguard_scrape_errors_total", {{"source", "map_usage"}}), 0.0);
  // Other families are still there.
  EXPECT_EQ(count_samples(samples, "sixguard_attached_interfaces"), 3u);
  counters_->fail = false;
  samples = scrape();
  EXPECT_EQ(count_samples(samples, "sixguard_packets_total"), 72u);
  EXPECT_EQ(find_sample(samples, "sixguard_scrape_errors_total", {{"source", "counters"}}), 1.0);
}

TEST(ExporterWithoutSources, DatapathSeriesAreAbsentNotZero) {
  Exporter exporter(BuildInfo{"1", "k"});
  auto samples = parse_exposition(exporter.scrape());
  EXPECT_EQ(count_samples(samples, "sixguard_packets_total"), 0u);
  EXPECT_EQ(count_samples(samples, "sixguard_map_entries"), 0u);
  EXPECT_EQ(count_samples(samples, "sixguard_attached_interfaces"), 0u);
  EXPECT_EQ(count_samples(samples, "sixguard_build_info"), 1u);
  EXPECT_EQ(count_samples(samples, "sixguard_ready"), 1u);
}

TEST_F(ExporterTest, ControlEventsByTypeAndResultStartAtZero) {
  auto samples = scrape();
  // 8 known types + "unknown", times the 7 result classes.
  EXPECT_EQ(count_samples(samples, "sixguard_events_total"), 9u * 7u);
  for (auto type : kEventTypes) {
    for (auto result : kEventResults) {
      EXPECT_EQ(find_sample(samples, "sixguard_events_total",
                            {{"type", std::string(type)}, {"result", std::string(result)}}),
                0.0)
          << type << " " << result;
    }
  }
}

TEST_F(ExporterTest, ControlEventsAreCountedWithBoundedLabels) {
  ControlObserver &observer = exporter_.observer();
  observer.event_result("machine.started", "applied");
  observer.event_result("machine.started", "applied");
  observer.event_result("network.created", "conflict");
  observer.event_result("machine.exploded", "malformed");  // unknown type
  observer.event_result("app.created", "disk_on_fire");    // unknown result class
  auto samples = scrape();
  EXPECT_EQ(find_sample(samples, "sixguard_events_total",
                        {{"type", "machine.started"}, {"result", "applied"}}),
            2.0);
  EXPECT_EQ(find_sample(samples, "sixguard_events_total",
                        {{"type", "network.created"}, {"result", "conflict"}}),
            1.0);
  EXPECT_EQ(
      find_sample(samples, "sixguard_events_total", {{"type", "unknown"}, {"result", "malformed"}}),
      1.0);
  EXPECT_EQ(
      find_sample(samples, "sixguard_events_total", {{"type", "app.created"}, {"result", "other"}}),
      1.0);
  for (const auto &sample : samples) {
    if (sample.name != "sixguard_events_total") continue;
    EXPECT_NE(sample.labels.at("type"), "machine.exploded");
    EXPECT_NE(sample.labels.at("result"), "disk_on_fire");
  }
}

TEST_F(ExporterTest, ApplyDurationHistogram) {
  exporter_.observer().apply_duration(0.002);
  exporter_.observer().apply_duration(0.3);
  auto samples = scrape();
  EXPECT_EQ(find_sample(samples, "sixguard_event_apply_duration_seconds_count", {}), 2.0);
  EXPECT_NEAR(*find_sample(samples, "sixguard_event_apply_duration_seconds_sum", {}), 0.302, 1e-9);
  EXPECT_EQ(find_sample(samples, "sixguard_event_apply_duration_seconds_bucket", {{"le", "0.001"}}),
            0.0);
  EXPECT_EQ(
      find_sample(samples, "sixguard_event_apply_duration_seconds_bucket", {{"le", "0.0025"}}),
      1.0);
  EXPECT_EQ(find_sample(samples, "sixguard_event_apply_duration_seconds_bucket", {{"le", "0.5"}}),
            2.0);
  EXPECT_EQ(find_sample(samples, "sixguard_event_apply_duration_seconds_bucket", {{"le", "+Inf"}}),
            2.0);
}

TEST_F(ExporterTest, ReconcileErrorsAndLastSuccess) {
  auto samples = scrape();
  EXPECT_EQ(find_sample(samples, "sixguard_reconcile_errors_total", {}), 0.0);
  EXPECT_EQ(find_sample(samples, "sixguard_last_reconcile_success_timestamp_seconds", {}), 0.0);
  const double before = static_cast<double>(std::time(nullptr));
  exporter_.observer().reconciled(true);
  exporter_.observer().reconciled(false);
  exporter_.observer().reconciled(false);
  samples = scrape();
  EXPECT_EQ(find_sample(samples, "sixguard_reconcile_errors_total", {}), 2.0);
  const double last =
      *find_sample(samples, "sixguard_last_reconcile_success_timestamp_seconds", {});
  EXPECT_GE(last, before);
  EXPECT_LE(last, static_cast<double>(std::time(nullptr)) + 1);
}

// The number of series is fixed by the code: a host with 10000 machines (and as many events,
// Flycast addresses and map entries) has exactly as many series as one with 10.
std::size_t series_after_machines(int machines) {
  auto counters = std::make_shared<FakeCounterSource>();
  auto maps = std::make_shared<FakeMapStatsSource>();
  auto attachments = std::make_shared<FakeAttachmentSource>();
  Exporter exporter(BuildInfo{"1", "k"});
  exporter.set_counter_source(counters);
  exporter.set_map_stats_source(maps);
  exporter.set_attachment_source(attachments);
  for (int machine = 0; machine < machines; ++machine) {
    exporter.observer().event_result("machine.started", "applied");
    exporter.observer().event_result("flycast.allocated", "applied");
    // A buggy caller passing an address or a machine id as the type must not add series.
    exporter.observer().event_result("machine-" + std::to_string(machine), "invalid");
    exporter.observer().apply_duration(0.001 * (machine % 50));
    counters->set(machine % SG_HOOK_COUNT, SG_VERDICT_PASS, SG_REASON_SAME_NETWORK, machine,
                  machine * 100ull);
  }
  maps->usage = {{"machines", static_cast<uint64_t>(machines), 16384},
                 {"flycast", static_cast<uint64_t>(machines), 65536}};
  attachments->attached = {static_cast<uint64_t>(machines), static_cast<uint64_t>(machines), 2};
  return parse_exposition(exporter.scrape()).size();
}

TEST(ExporterCardinality, SeriesCountDoesNotGrowWithMachines) {
  const std::size_t with_10 = series_after_machines(10);
  const std::size_t with_10000 = series_after_machines(10000);
  EXPECT_EQ(with_10, with_10000);
  EXPECT_GT(with_10, 2u * 72u);  // the verdict counters alone are 144 series
}

// The control plane reports from its threads while the metrics server scrapes from its own.
TEST_F(ExporterTest, ScrapesAndReportsConcurrently) {
  constexpr int kEventsPerThread = 2000;
  std::vector<std::thread> reporters;
  for (int thread = 0; thread < 3; ++thread) {
    reporters.emplace_back([this] {
      for (int i = 0; i < kEventsPerThread; ++i) {
        exporter_.observer().event_result("app.created", i % 2 ? "applied" : "new_class");
        exporter_.observer().apply_duration(0.001);
        exporter_.observer().reconciled(i % 3 != 0);
      }
    });
  }
  std::size_t scrapes = 0;
  for (; scrapes < 20; ++scrapes) {
    counters_->monitor[SG_EVSTAT_SENT] = scrapes;  // the fake is read on this thread only
    EXPECT_FALSE(exporter_.scrape().empty());
  }
  for (auto &reporter : reporters) reporter.join();
  auto samples = scrape();
  EXPECT_EQ(find_sample(samples, "sixguard_events_total",
                        {{"type", "app.created"}, {"result", "applied"}}),
            3.0 * kEventsPerThread / 2);
  EXPECT_EQ(
      find_sample(samples, "sixguard_events_total", {{"type", "app.created"}, {"result", "other"}}),
      3.0 * kEventsPerThread / 2);
  EXPECT_EQ(find_sample(samples, "sixguard_event_apply_duration_seconds_count", {}),
            3.0 * kEventsPerThread);
}

TEST_F(ExporterTest, HttpEndpoints) {
  HttpReply metrics = exporter_.handle("GET", "/metrics");
  EXPECT_EQ(metrics.status, 200);
  EXPECT_EQ(metrics.content_type, kPrometheusTextContentType);
  EXPECT_NE(metrics.body.find("# TYPE sixguard_packets_total counter"), std::string::npos);

  HttpReply health = exporter_.handle("GET", "/healthz");
  EXPECT_EQ(health.status, 200);
  EXPECT_EQ(health.body, "ok\n");

  HttpReply not_ready = exporter_.handle("GET", "/readyz");
  EXPECT_EQ(not_ready.status, 503);
  EXPECT_NE(not_ready.body.find("starting"), std::string::npos);
  exporter_.readiness().set_not_ready("loading state from /var/lib/sixguard");
  not_ready = exporter_.handle("GET", "/readyz");
  EXPECT_EQ(not_ready.status, 503);
  EXPECT_NE(not_ready.body.find("loading state from /var/lib/sixguard"), std::string::npos);
  exporter_.readiness().set_ready();
  EXPECT_EQ(exporter_.handle("GET", "/readyz?verbose=1").status, 200);

  EXPECT_EQ(exporter_.handle("GET", "/nope").status, 404);
  EXPECT_EQ(exporter_.handle("POST", "/metrics").status, 405);
  EXPECT_EQ(exporter_.handle("HEAD", "/healthz").status, 200);
}

// A condition (the state database) holds /readyz false whatever the attachment sweep says,
// with its reason, until it is cleared (DESIGN §4).
TEST_F(ExporterTest, ReadinessConditionOutranksTheSweep) {
  exporter_.readiness().set_ready();
  exporter_.readiness().set_condition("state", "state database /x/state.db was deleted");
  exporter_.readiness().set_ready();  // a later sweep finds every interface attached
  HttpReply reply = exporter_.handle("GET", "/readyz");
  EXPECT_EQ(reply.status, 503);
  EXPECT_NE(reply.body.find("state database /x/state.db was deleted"), std::string::npos);
  EXPECT_NE(exporter_.scrape().find("sixguard_ready 0"), std::string::npos);
  exporter_.readiness().clear_condition("state");
  EXPECT_EQ(exporter_.handle("GET", "/readyz").status, 200);
}

TEST_F(ExporterTest, EveryFamilyHasHelpAndType) {
  const std::string text = exporter_.scrape();
  for (const char *name :
       {"sixguard_packets_total", "sixguard_bytes_total", "sixguard_monitor_events_total",
        "sixguard_attached_interfaces", "sixguard_build_info", "sixguard_ready",
        "sixguard_events_total", "sixguard_event_apply_duration_seconds",
        "sixguard_reconcile_errors_total", "sixguard_last_reconcile_success_timestamp_seconds",
        "sixguard_scrape_errors_total"}) {
    EXPECT_NE(text.find(std::string("# HELP ") + name + " "), std::string::npos) << name;
    EXPECT_NE(text.find(std::string("# TYPE ") + name + " "), std::string::npos) << name;
  }
}

}  // namespace
}  // namespace sixguard::exporter
