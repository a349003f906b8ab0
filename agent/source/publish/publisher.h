// `sixguard publish`: a batch of §3 events validated against the store's current contents
// and written as one guarded etcd txn (publish_plan.h). When a guard is lost (someone wrote
// under the prefix between the read and the txn) the store is read and the batch decided
// again, up to `attempts` times: a conflict that is real (the ID another publisher just bound)
// is then the rules' 409; a store that keeps changing is a 409 too, saying so.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "agent/source/etcd/client.h"
#include "agent/control/events.h"
#include "agent/control/state_rules.h"

namespace sixguard {

struct PublishOptions {
  std::string prefix = "/sixguard/v1";
  std::string host;  // machine events without a "host" field
  EventRules rules;  // infra prefixes (the agents' default when empty)
  unsigned attempts = 5;
};

struct PublishResult {
  // 200 written (or nothing to write), 400/409/422 refused (error names the event and
  // field; the status the agent would answer, control_answer.h), 0 the store could not be
  // read or written (store_error says why).
  int status = 200;
  std::optional<EventError> error;
  std::optional<Error> store_error;
  std::size_t applied = 0, unchanged = 0, writes = 0;
  int64_t revision = 0;              // the store's revision after the txn (or as read)
  unsigned attempts = 0;             // txns tried
  std::vector<std::string> skipped;  // store keys that break the rules (last read)
};

PublishResult publish(etcd::Client &client, std::string_view body, const PublishOptions &options);

}  // namespace sixguard
