#include "exporter/readiness.h"

#include <utility>

namespace sixguard::exporter {

void Readiness::set_ready() {
  std::lock_guard lock(mutex_);
  state_ = State{true, ""};
}

void Readiness::set_not_ready(std::string reason) {
  std::lock_guard lock(mutex_);
  state_ = State{false, std::move(reason)};
}

void Readiness::set_condition(const std::string &name, std::string reason) {
  std::lock_guard lock(mutex_);
  conditions_[name] = std::move(reason);
}

void Readiness::clear_condition(const std::string &name) {
  std::lock_guard lock(mutex_);
  conditions_.erase(name);
}

Readiness::State Readiness::get() const {
  std::lock_guard lock(mutex_);
  if (!conditions_.empty()) return State{false, conditions_.begin()->second};
  return state_;
}

}  // namespace sixguard::exporter
