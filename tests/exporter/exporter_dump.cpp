// Prints one /metrics scrape of an exporter fed by fakes with non-zero values in every
// family, for `promtool check metrics` (tests/exporter/CMakeLists.txt) without an agent.
#include <iostream>
#include <memory>

#include "exporter/exporter.h"
#include "tests/exporter/fake_sources.h"

int main() {
  using namespace sixguard::exporter;
  auto counters = std::make_shared<test::FakeCounterSource>();
  auto maps = std::make_shared<test::FakeMapStatsSource>();
  auto attachments = std::make_shared<test::FakeAttachmentSource>();
  for (unsigned slot = 0; slot < kCounterSlots; ++slot) {
    counters->counters[slot] = sg_counter{slot + 1ull, (slot + 1ull) * 100};
  }
  counters->monitor = {100, 7, 1};
  maps->usage = {
      {"machines", 12, 16384}, {"flycast", 3, 65536}, {"infra", 1, 1024}, {"net_flags", 0, 16384}};
  attachments->attached = {12, 12, 1};

  Exporter exporter;
  exporter.set_counter_source(counters);
  exporter.set_map_stats_source(maps);
  exporter.set_attachment_source(attachments);
  exporter.observer().event_result("machine.started", "applied");
  exporter.observer().event_result("network.created", "conflict");
  exporter.observer().apply_duration(0.004);
  exporter.observer().reconciled(true);
  exporter.readiness().set_ready();
  std::cout << exporter.scrape();
  return 0;
}
