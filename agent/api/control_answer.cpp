#include "agent/api/control_answer.h"

namespace sixguard {

unsigned http_status(ControlErrorKind kind) {
  switch (kind) {
    case ControlErrorKind::kMalformed:
      return 400;
    case ControlErrorKind::kConflict:
      return 409;
    case ControlErrorKind::kInvalid:
      return 422;
    case ControlErrorKind::kCapacity:
      return 507;
    case ControlErrorKind::kUnavailable:
      return 503;
    case ControlErrorKind::kInternal:
      break;
  }
  return 500;
}

nlohmann::json error_body(const EventError &error) {
  nlohmann::json body = {{"error", error.message}};
  if (error.index) body["index"] = *error.index;
  if (!error.type.empty()) body["type"] = error.type;
  if (!error.field.empty()) body["field"] = error.field;
  return body;
}

ControlAnswer answer_of(const ApplyResult &result) {
  const nlohmann::json counts = {{"applied", result.applied}, {"unchanged", result.unchanged}};
  if (!result.error) return {200, counts};
  ControlAnswer answer{http_status(result.error->kind), error_body(*result.error)};
  // Committed: the counts stand, and the client learns what state.db now holds.
  if (result.error->kind == ControlErrorKind::kInternal) answer.body.update(counts);
  return answer;
}

}  // namespace sixguard
