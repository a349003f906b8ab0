// What the control plane reports as it works; the exporter turns it into metrics
// (sixguard_events_total, sixguard_event_apply_duration_seconds, reconcile health).
// Kept as an interface so the control plane does not depend on prometheus-cpp.
#pragma once

#include <string_view>

namespace sixguard {

struct ApplyResult;  // control_plane.h

class ControlObserver {
 public:
  virtual ~ControlObserver() = default;
  // One call per event in a batch. result: "applied", "unchanged", or the error class
  // "malformed" (400), "conflict" (409), "invalid" (422), "map_full", "internal".
  virtual void event_result(std::string_view type, std::string_view result) = 0;
  // Wall time of one POST /v1/events batch, validation to maps written.
  virtual void apply_duration(double seconds) = 0;
  // After every reconciliation of maps to state (start, interface change, batch).
  virtual void reconciled(bool ok) = 0;
  // Once per batch, whatever its outcome (the agent logs it). Not pure: metrics ignore it.
  virtual void batch_finished(const ApplyResult &) {}
};

class NullObserver final : public ControlObserver {
 public:
  void event_result(std::string_view, std::string_view) override {}
  void apply_duration(double) override {}
  void reconciled(bool) override {}
};

}  // namespace sixguard
