// Test the one mapping of the control plane's errors to the API's answers (control_answer.h):
// every kind's HTTP status and class, the error body's parts, and the answer to a batch that
// was applied, refused, not committed or committed with a failed map write.
#include <gtest/gtest.h>

#include "agent/api/control_answer.h"

namespace sixguard::testing {
namespace {

// An error no event is at fault for.
EventError plain(ControlErrorKind kind, std::string message) {
  EventError error;
  error.kind = kind;
  error.message = std::move(message);
  return error;
}

TEST(ControlAnswer, EveryKindHasItsStatusAndClass) {
  struct Row {
    ControlErrorKind kind;
    unsigned status;
    std::string_view result_class;
  };
  const Row rows[] = {
      {.kind = ControlErrorKind::kMalformed, .status = 400, .result_class = "malformed"},
      {.kind = ControlErrorKind::kConflict, .status = 409, .result_class = "conflict"},
      {.kind = ControlErrorKind::kInvalid, .status = 422, .result_class = "invalid"},
      {.kind = ControlErrorKind::kCapacity, .status = 507, .result_class = "map_full"},
      {.kind = ControlErrorKind::kUnavailable, .status = 503, .result_class = "unavailable"},
      {.kind = ControlErrorKind::kInternal, .status = 500, .result_class = "internal"},
  };
  for (const Row &row : rows) {
    EXPECT_EQ(http_status(row.kind), row.status) << row.result_class;
    EXPECT_EQ(error_class(row.kind), row.result_class);
    const EventError error = plain(row.kind, "m");
    EXPECT_EQ(error.result_class(), row.result_class);
  }
}

TEST(ControlAnswer, ErrorBodyNamesOnlyThePartsKnown) {
  const EventError bare = plain(ControlErrorKind::kMalformed, "request body: empty");
  EXPECT_EQ(error_body(bare).dump(), R"({"error":"request body: empty"})");
  const EventError named = event_error(ControlErrorKind::kConflict, 0, "network.created", "id",
                                       "network id 2:45b is bound to acme/default");
  EXPECT_EQ(error_body(named).dump(),
            R"({"error":"event 0 (network.created): field 'id': network id 2:45b is bound to )"
            R"(acme/default","field":"id","index":0,"type":"network.created"})");
  // Index 0 is an index, not "none"; an empty type or field is left out.
  const EventError no_field =
      event_error(ControlErrorKind::kInvalid, 3, "app.destroyed", "", "unknown app 'ghost'");
  EXPECT_EQ(error_body(no_field).dump(),
            R"({"error":"event 3 (app.destroyed): unknown app 'ghost'","index":3,)"
            R"("type":"app.destroyed"})");
}

TEST(ControlAnswer, AnswersEachOutcomeOfABatch) {
  ApplyResult applied;
  applied.applied = 3;
  applied.unchanged = 1;
  ControlAnswer answer = answer_of(applied);
  EXPECT_EQ(answer.status, 200u);
  EXPECT_EQ(answer.body.dump(), R"({"applied":3,"unchanged":1})");

  ApplyResult refused;
  refused.error = event_error(ControlErrorKind::kCapacity, 2, "machine.started", "machine",
                              "map sg_machines is full");
  answer = answer_of(refused);
  EXPECT_EQ(answer.status, 507u);
  EXPECT_EQ(answer.body, error_body(*refused.error));

  // Not committed: whatever the counts were, nothing was applied and none is reported.
  ApplyResult not_committed = applied;
  not_committed.error = plain(ControlErrorKind::kUnavailable, "disk");
  answer = answer_of(not_committed);
  EXPECT_EQ(answer.status, 503u);
  EXPECT_EQ(answer.body.dump(), R"({"error":"disk"})");

  // Committed, the maps not written: the counts stand beside the error.
  ApplyResult committed = applied;
  committed.error = plain(ControlErrorKind::kInternal, "maps");
  answer = answer_of(committed);
  EXPECT_EQ(answer.status, 500u);
  EXPECT_EQ(answer.body.dump(), R"({"applied":3,"error":"maps","unchanged":1})");
}

}  // namespace
}  // namespace sixguard::testing
