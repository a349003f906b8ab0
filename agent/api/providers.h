// What the API needs from the daemon (agent/daemon implements these and passes them to
// register_api_routes). Each may be absent: /v1/explain and /v1/monitor then answer 503,
// /v1/status has only the control plane's "state".
#pragma once

#include <chrono>
#include <cstdint>
#include <memory>
#include <optional>
#include <string>

#include <nlohmann/json.hpp>

#include "agent/core/address.h"
#include "agent/core/result.h"
#include "agent/datapath/names.h"
#include "bpf/include/sixguard_shared.h"

namespace sixguard {

// GET /v1/status: the daemon's view (attached interfaces per hook, programs, maps, mode,
// readiness...). The API adds the control plane's counts under "state".
class StatusProvider {
 public:
  virtual ~StatusProvider() = default;
  virtual nlohmann::json status() = 0;  // a JSON object
};

// POST /v1/explain: runs the loaded sg_explain program (BPF_PROG_TEST_RUN) on a packet
// src -> dst, at the machine hooks of interface_name or, without one, at the uplink hook.
// Errors: code ENODEV (the interface does not exist or is not a machine interface) -> 404;
// EINVAL -> 400; anything else -> 500. The message is shown to the user as is.
class Explainer {
 public:
  virtual ~Explainer() = default;
  virtual Result<Explanation> explain(const Ipv6 &src, const Ipv6 &dst,
                                      const std::optional<std::string> &interface_name) = 0;
};

// GET /v1/monitor: drop (and audit) events from the sg_events ring buffer. One subscription
// per client; every subscription sees every event from the moment it subscribed.
class MonitorSubscription {
 public:
  virtual ~MonitorSubscription() = default;
  // Waits at most timeout for the next event; nullopt when none came.
  virtual std::optional<sg_drop_event> next(std::chrono::milliseconds timeout) = 0;
};

class MonitorSource {
 public:
  virtual ~MonitorSource() = default;
  virtual std::unique_ptr<MonitorSubscription> subscribe() = 0;
};

}  // namespace sixguard
