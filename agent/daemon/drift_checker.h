// The drift checker (DESIGN §5, "the kernel is checked, not trusted"): every
// drift_check_interval and on SIGHUP the daemon compares what the kernel holds with what it
// should hold and repairs each difference, logged as a warning naming the map and key (or
// the pin, or the interface and hook) and counted in sixguard_drift_repairs_total{map}.
//
// The daemon's main loop runs a check in this order, each step before what depends on it:
//   1. pins: bpffs mounted at the configured path, each pin of ours there (DatapathService);
//   2. maps: every entry of every policy map against the image of the state (check_maps);
//   3. attachments: every hook the registry holds, asked of the kernel (AttachmentRegistry::
//      verify), re-attached through the attach code - after its map entry was repaired.
// This class holds the map step, the bookkeeping and the record GET /v1/status shows; the
// daemon does the steps that need its datapath and attachments.
#pragma once

#include <cstdint>
#include <map>
#include <mutex>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include <nlohmann/json.hpp>

#include "agent/control/control_plane.h"
#include "exporter/drift_metrics.h"
#include "agent/control/map_backend.h"

namespace sixguard::daemon {

// One check, as status shows it ("drift": {"last_check": ...}).
struct DriftCheckRecord {
  std::string trigger;  // "interval" | "SIGHUP"
  double started = 0;   // unix seconds
  double duration_seconds = 0;
  double longest_lock_seconds = 0;          // the control-plane lock, held for the map step
  std::map<std::string, uint64_t> repairs;  // by label (sixguard_drift_repairs_total{map})
  std::vector<std::string> errors;
  // Differences at keys a batch changed while the check compared: left to the next check.
  uint64_t maps_deferred = 0;
};

class DriftChecker {
 public:
  DriftChecker(ControlPlane &control, MapBackend &maps, exporter::DriftMetrics &metrics)
      : control_(control), maps_(maps), metrics_(metrics) {}

  DriftCheckRecord begin(std::string_view trigger) const;
  // The map step: a snapshot of the image under the control-plane lock, the maps read and
  // compared outside it, the repair under it if nothing wrote the maps meanwhile.
  void check_maps(DriftCheckRecord &record);
  // One difference repaired: a warning (the first kLoggedPerLabel of a label per check; a
  // summary line for the rest), the metric, the record.
  void repaired(DriftCheckRecord &record, std::string_view label, const std::string &what);
  void failed(DriftCheckRecord &record, const std::string &what);
  // Logs the summary when something was found, stores the record, sets the timestamp.
  void finish(DriftCheckRecord record);

  // {"checks", "repairs_total", "last_check": {"trigger", "time", "duration_seconds",
  //  "longest_lock_seconds", "repairs": {label: n}, "errors": [..], "maps_deferred"}}
  // (last_check null before the first).
  nlohmann::json status() const;

  // A huge drift (a map flushed by hand) must not become a million log lines.
  static constexpr uint64_t kLoggedPerLabel = 20;

 private:
  ControlPlane &control_;
  MapBackend &maps_;
  exporter::DriftMetrics &metrics_;

  mutable std::mutex mutex_;  // the record is read by the API's threads
  uint64_t checks_ = 0;
  uint64_t repairs_total_ = 0;
  std::optional<DriftCheckRecord> last_;
};

}  // namespace sixguard::daemon
