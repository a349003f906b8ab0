#include "agent/source/publish/publisher.h"

#include <random>
#include <thread>

#include "agent/api/control_answer.h"
#include "agent/source/publish/publish_plan.h"
#include "agent/source/etcd_keys.h"

namespace sixguard {

PublishResult publish(etcd::Client &client, std::string_view body, const PublishOptions &options) {
  PublishResult result;
  auto refused = [&](EventError error) {
    result.status = static_cast<int>(http_status(error.kind));
    result.error = std::move(error);
    return result;
  };
  if (auto bad = check_etcd_prefix(options.prefix); !bad) {
    return refused(EventError{ControlErrorKind::kMalformed,
                              "prefix " + options.prefix + ": " + bad.error().message, std::nullopt,
                              "", ""});
  }
  const ParsedEvents parsed = parse_events(body);
  if (parsed.error) return refused(*parsed.error);
  std::vector<std::string> hosts;
  if (auto bad = event_hosts(body, parsed.events.size(), hosts)) return refused(std::move(*bad));
  for (auto &host : hosts) {
    if (host.empty()) host = options.host;
  }
  EventRules rules = options.rules;
  if (rules.infra_prefixes.empty())
    rules.infra_prefixes.push_back(*parse_ipv6_prefix("fdaa::3/128"));

  std::mt19937_64 random{std::random_device{}()};
  for (unsigned attempt = 0; attempt < options.attempts; ++attempt) {
    if (attempt > 0) {
      // Publishers that lost to each other do not retry in step.
      std::this_thread::sleep_for(
          etcd::backoff_delay(etcd::Backoff{.initial = std::chrono::milliseconds(10),
                                            .max = std::chrono::milliseconds(200),
                                            .jitter = 1.0},
                              attempt - 1, random));
    }
    auto snapshot = client.list_prefix(options.prefix + "/");
    if (!snapshot) {
      result.status = 0;
      result.store_error = snapshot.error();
      return result;
    }
    StoreView view = build_store_view(options.prefix, *snapshot, rules);
    result.skipped = view.skipped;
    PublishPlan plan = plan_publish(view, parsed.events, hosts, rules);
    if (plan.refusal) return refused(std::move(*plan.refusal));
    result.applied = plan.applied;
    result.unchanged = plan.unchanged;
    result.writes = plan.writes();
    result.revision = snapshot->revision;
    if (plan.txn.success.empty()) return result;  // everything already in effect
    ++result.attempts;
    auto written = client.txn(plan.txn);
    if (!written) {
      result.status = 0;
      result.store_error = written.error();
      return result;
    }
    if (written->succeeded) {
      result.revision = written->revision;
      return result;
    }
  }
  return refused(EventError{ControlErrorKind::kConflict,
                            "the store changed under the batch at every one of " +
                                std::to_string(options.attempts) +
                                " attempts (other publishers are writing): try again",
                            std::nullopt, "", ""});
}

}  // namespace sixguard
