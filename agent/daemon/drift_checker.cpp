#include "agent/daemon/drift_checker.h"

#include <algorithm>
#include <chrono>

#include "agent/control/desired_maps.h"
#include "agent/daemon/log.h"
#include "agent/control/map_drift.h"

namespace sixguard::daemon {

namespace {

double unix_now() {
  return std::chrono::duration<double>(std::chrono::system_clock::now().time_since_epoch()).count();
}

}  // namespace

DriftCheckRecord DriftChecker::begin(std::string_view trigger) const {
  DriftCheckRecord record;
  record.trigger = std::string(trigger);
  record.started = unix_now();
  return record;
}

void DriftChecker::check_maps(DriftCheckRecord &record) {
  const auto snapshot = control_.snapshot_image();
  record.longest_lock_seconds = std::max(record.longest_lock_seconds, snapshot.lock_seconds);
  auto held = read_image(maps_);
  if (!held) {
    failed(record, "reading the maps: " + held.error().describe());
    return;
  }
  const MapDrift drift = compare_maps(*held, snapshot.image);
  const auto repair = control_.repair_drift(snapshot.generation, drift);
  record.longest_lock_seconds = std::max(record.longest_lock_seconds, repair.lock_seconds);
  if (repair.deferred > 0) {
    // A batch changed what those keys should hold after the snapshot: what was found there
    // may be that batch in flight. The next check compares them again.
    record.maps_deferred += repair.deferred;
    log_info("drift", std::to_string(repair.deferred) +
                          " difference(s) at keys a batch changed meanwhile; left to the next "
                          "check");
  }
  if (!repair.status) {
    failed(record, repair.status.error().describe() + " (" +
                       std::to_string(repair.repaired.differences.size()) +
                       " difference(s) to repair)");
    return;
  }
  for (const auto &difference : repair.repaired.differences) {
    repaired(record, difference.label,
             std::string(difference.map) + " " + difference.key + ": " +
                 std::string(drift_kind_name(difference.kind)) + " (" + difference.detail +
                 "): repaired");
  }
}

void DriftChecker::repaired(DriftCheckRecord &record, std::string_view label,
                            const std::string &what) {
  const uint64_t count = ++record.repairs[std::string(label)];
  metrics_.repaired(label);
  if (count <= kLoggedPerLabel) log_warn("drift", what);
}

void DriftChecker::failed(DriftCheckRecord &record, const std::string &what) {
  log_error("drift", what);
  metrics_.check_error();
  record.errors.push_back(what);
}

void DriftChecker::finish(DriftCheckRecord record) {
  record.duration_seconds = unix_now() - record.started;
  uint64_t repairs = 0;
  std::string summary;
  for (const auto &[label, count] : record.repairs) {
    repairs += count;
    summary += (summary.empty() ? "" : ", ") + label + " " + std::to_string(count);
    if (count > kLoggedPerLabel) {
      log_warn("drift", label + ": " + std::to_string(count - kLoggedPerLabel) +
                            " more repair(s) not logged one by one");
    }
  }
  if (repairs > 0) {
    log_warn("drift", "check (" + record.trigger + ") repaired " + std::to_string(repairs) +
                          " difference(s): " + summary);
  }
  metrics_.checked(record.started + record.duration_seconds);
  std::lock_guard lock(mutex_);
  ++checks_;
  repairs_total_ += repairs;
  last_ = std::move(record);
}

nlohmann::json DriftChecker::status() const {
  std::lock_guard lock(mutex_);
  nlohmann::json out = {{"checks", checks_}, {"repairs_total", repairs_total_}};
  if (!last_) {
    out["last_check"] = nullptr;
    return out;
  }
  nlohmann::json repairs = nlohmann::json::object();
  for (const auto &[label, count] : last_->repairs) repairs[label] = count;
  out["last_check"] = {{"trigger", last_->trigger},
                       {"time", last_->started},
                       {"duration_seconds", last_->duration_seconds},
                       {"longest_lock_seconds", last_->longest_lock_seconds},
                       {"repairs", repairs},
                       {"errors", last_->errors},
                       {"maps_deferred", last_->maps_deferred}};
  return out;
}

}  // namespace sixguard::daemon
