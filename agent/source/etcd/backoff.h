// Exponential backoff with jitter between rounds of retries (every endpoint failed): the
// nominal delay doubles from `initial` up to `max`, and each wait is drawn uniformly from
// [nominal * (1 - jitter), nominal], so a fleet of agents that lost etcd together does not
// come back in step.
#pragma once

#include <chrono>
#include <random>

namespace sixguard::etcd {

struct Backoff {
  std::chrono::milliseconds initial{100};
  std::chrono::milliseconds max{5000};
  double jitter = 0.5;  // 0..1: the share of the nominal delay that is random
};

// The nominal delay before retry `attempt` (0: the first retry): min(initial * 2^attempt, max).
std::chrono::milliseconds nominal_delay(const Backoff &backoff, unsigned attempt);
// The delay to wait, drawn from [nominal * (1 - jitter), nominal].
std::chrono::milliseconds backoff_delay(const Backoff &backoff, unsigned attempt,
                                        std::mt19937_64 &random);

}  // namespace sixguard::etcd
