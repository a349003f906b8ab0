// The synthetic platform the control-plane benchmarks feed the agent (DESIGN §3 events): one
// organisation, 100 networks, 1000 apps spread over them, and as many machines and Flycast
// addresses as asked, each with a unique, valid address on the right network. Machines name
// interfaces that do not exist (the agent accepts them and attaches when they appear).
#pragma once

#include <cstdint>
#include <string>

namespace sixguard::bench {

inline constexpr uint32_t kBenchNetworks = 100;
inline constexpr uint32_t kBenchApps = 1000;

std::string network_created(uint32_t k);    // network n<k>
std::string app_created(uint32_t i);        // app a<i> on network n<i % 100>
std::string machine_started(uint32_t j);    // machine of app a<j % 1000>
std::string flycast_allocated(uint32_t k);  // target app a<k % 1000>, into n<(k+1) % 100>

// A JSON array of `count` events event(first) .. event(first + count - 1).
template <typename F>
std::string batch(F event, uint32_t first, uint32_t count) {
  std::string out = "[";
  for (uint32_t i = 0; i < count; ++i) {
    if (i) out += ",";
    out += event(first + i);
  }
  return out + "]";
}

}  // namespace sixguard::bench
