#include "agent/source/etcd/backoff.h"

#include <algorithm>

namespace sixguard::etcd {

std::chrono::milliseconds nominal_delay(const Backoff &backoff, unsigned attempt) {
  const auto max = std::max(backoff.max, backoff.initial);
  auto delay = backoff.initial;
  for (unsigned i = 0; i < attempt && delay < max; ++i) delay *= 2;
  return std::min(delay, max);
}

std::chrono::milliseconds backoff_delay(const Backoff &backoff, unsigned attempt,
                                        std::mt19937_64 &random) {
  const auto nominal = nominal_delay(backoff, attempt).count();
  const double jitter = std::clamp(backoff.jitter, 0.0, 1.0);
  const auto low = static_cast<int64_t>(static_cast<double>(nominal) * (1.0 - jitter));
  std::uniform_int_distribution<int64_t> draw(low, nominal);
  return std::chrono::milliseconds(draw(random));
}

}  // namespace sixguard::etcd
