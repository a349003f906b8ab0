#include "agent/api/control_answer.h"

#include <iterator>

namespace sixguard {

unsigned http_status(ControlErrorKind kind) {
  // In the order of ControlErrorKind (DESIGN §5).
  static constexpr unsigned kStatuses[] = {400, 409, 422, 507, 503, 500};
  static_assert(std::size(kStatuses) == kControlErrorKinds);
  const auto index = static_cast<std::size_t>(kind);
  return index < std::size(kStatuses) ? kStatuses[index] : 500;
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
