// The differential fuzzer from the command line (scripts/bench.sh fuzz): frames through every
// program of the real datapath and through the model, with a summary and frames/s. Exits 1 on a
// disagreement (a correctness failure), never on timing.
//
//   model_fuzz [--frames N] [--seed S] [--first I] [--full-check-every K] [--max-reports R]
//              [--device-every D] [--plant-bug] [--plant-count I]
//   model_fuzz --hex FRAME [--iface 0-3] [--policy P]   # one frame (m1 m2 m3 unknown)
#include <unistd.h>

#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <string>

#include "tests/model/differential.h"
#include "tests/model/frame_gen.h"
#include "tests/common/kernel_test.h"
#include "tests/bpf/scenario.h"

using namespace sixguard;

int main(int argc, char **argv) {
  model::FuzzOptions options;
  options.frames = 100000;
  options.seed = static_cast<uint64_t>(std::chrono::system_clock::now().time_since_epoch().count());
  for (int i = 1; i < argc; ++i) {
    const std::string arg = argv[i];
    auto value = [&]() -> uint64_t {
      if (i + 1 >= argc) {
        std::fprintf(stderr, "%s needs a value\n", arg.c_str());
        std::exit(2);
      }
      return std::strtoull(argv[++i], nullptr, 0);
    };
    if (arg == "--frames") {
      options.frames = value();
    } else if (arg == "--seed") {
      options.seed = value();
    } else if (arg == "--first") {
      options.first = value();
    } else if (arg == "--full-check-every") {
      options.full_check_every = std::max<uint64_t>(1, value());
    } else if (arg == "--device-every") {
      options.device_every = std::max<uint64_t>(1, value());
    } else if (arg == "--max-reports") {
      options.max_reports = value();
    } else if (arg == "--hex") {
      if (i + 1 >= argc) return 2;
      options.given_frame = model::from_hex(argv[++i]);
      options.frames = 1;
    } else if (arg == "--iface") {
      options.given_iface = static_cast<int>(value());
    } else if (arg == "--policy") {
      options.given_policy = value();
    } else if (arg == "--plant-count") {
      options.plant_count_before_frame = value();
    } else if (arg == "--plant-bug") {
      options.bug = model::PlantedBug::kEgressSameNetworkIsCross;
    } else {
      std::fprintf(stderr,
                   "usage: %s [--frames N] [--seed S] [--first I] [--full-check-every K] "
                   "[--max-reports R] [--device-every D] [--plant-bug] [--plant-count I]\n       "
                   "%s --hex FRAME [--iface 0-3] "
                   "[--policy P]\n",
                   argv[0], argv[0]);
      return 2;
    }
  }
  if (auto why = test::kernel_unavailable_reason()) {
    std::fprintf(stderr, "model_fuzz: cannot run: %s\n", why->c_str());
    return 2;
  }
  if (auto why = test::netns_unavailable_reason()) {
    std::fprintf(stderr, "model_fuzz: cannot run: %s\n", why->c_str());
    return 2;
  }
  auto host = bpftest::Host::create();
  if (!host) {
    std::fprintf(stderr, "model_fuzz: %s\n", host.error().describe().c_str());
    return 2;
  }
  options.log = [](const std::string &report) { std::fprintf(stderr, "%s", report.c_str()); };
  std::printf("seed %llu, frames [%llu, %llu)\n", static_cast<unsigned long long>(options.seed),
              static_cast<unsigned long long>(options.first),
              static_cast<unsigned long long>(options.first + options.frames));
  auto stats = model::run_differential(**host, options);
  if (!stats) {
    std::fprintf(stderr, "model_fuzz: %s\n", stats.error().describe().c_str());
    return 2;
  }
  std::printf("%s", model::summarize(*stats).c_str());
  return stats->disagreements == 0 ? 0 : 1;
}
