// The agent's log of control-plane batches: one info line per applied batch (events applied per
// type, unchanged count), one warning per refused batch (HTTP status, code, and the index,
// type and field of the offending event). Wraps the metrics observer so that every batch,
// whichever route or source applied it, is both counted and logged.
#pragma once

#include <chrono>
#include <cstdint>
#include <mutex>

#include "agent/control/observer.h"

namespace sixguard::daemon {

class BatchLogObserver final : public ControlObserver {
 public:
  explicit BatchLogObserver(ControlObserver &metrics) : metrics_(metrics) {}

  void event_result(std::string_view type, std::string_view result) override {
    metrics_.event_result(type, result);
  }
  void apply_duration(double seconds) override { metrics_.apply_duration(seconds); }
  void reconciled(bool ok) override { metrics_.reconciled(ok); }
  void batch_finished(const ApplyResult &result) override;

  static constexpr uint32_t kLinesPerSecond = 20;

 private:
  // false: over this second's budget (counted in suppressed_).
  bool take_line(uint64_t &suppressed_before);

  ControlObserver &metrics_;
  std::mutex mutex_;
  std::chrono::steady_clock::time_point window_start_{};
  uint32_t lines_in_window_ = 0;
  uint64_t suppressed_ = 0;
};

}  // namespace sixguard::daemon
