#include "readiness.h"

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

Readiness::State Readiness::get() const {
  std::lock_guard lock(mutex_);
  return state_;
}

}  // namespace sixguard::exporter
