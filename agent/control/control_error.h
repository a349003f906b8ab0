// Why the control plane refused a batch, or failed to apply one, in its own terms. The API
// (agent/api/control_answer.h) is the one place that turns a kind into an HTTP status and an
// error into a JSON body; the control plane, `sixguard publish` and the etcd source know
// only the kind.
#pragma once

#include <cstddef>
#include <optional>
#include <string>
#include <string_view>

namespace sixguard {

enum class ControlErrorKind {
  kMalformed,    // the body or an event's shape, or an input limit (DESIGN §3)
  kConflict,     // contradicts what is bound (an ID bound otherwise, a name taken)
  kInvalid,      // a value that makes no sense against the state (address, range, mode)
  kCapacity,     // a datapath map would need more entries than it holds: nothing applied
  kUnavailable,  // state.db cannot commit: nothing applied
  kInternal,     // the batch is committed but writing the maps failed (repaired later)
};
inline constexpr std::size_t kControlErrorKinds =
    static_cast<std::size_t>(ControlErrorKind::kInternal) + 1;

// The ControlObserver result class and the log's "code": "malformed", "conflict",
// "invalid", "map_full", "unavailable", "internal".
std::string_view error_class(ControlErrorKind kind);

// One refusal: what and, when an event is at fault, which (index in the batch, its type,
// the offending field).
struct EventError {
  ControlErrorKind kind = ControlErrorKind::kMalformed;
  std::string message;
  std::optional<std::size_t> index;
  std::string type;   // the event's type when known
  std::string field;  // the offending field when there is one

  std::string_view result_class() const { return error_class(kind); }
};

}  // namespace sixguard
