// Events as tests send them (DESIGN §3), built in one place so that a test states only the
// fields it is about. Tests whose point is the exact JSON text (missing fields, NUL bytes, raw
// etcd values) keep writing it by hand.
#pragma once

#include <nlohmann/json.hpp>

#include <string>

namespace sixguard::test {

// {"type":"machine.started","app":…,"machine":…,"address":…,"interface":…}
inline nlohmann::json machine_started(const std::string &app, const std::string &machine,
                                      const std::string &address,
                                      const std::string &interface_name) {
  return {{"type", "machine.started"},
          {"app", app},
          {"machine", machine},
          {"address", address},
          {"interface", interface_name}};
}

// {"type":"flycast.allocated","app":…,"address":…,"network":…}
inline nlohmann::json flycast_allocated(const std::string &app, const std::string &address,
                                        const std::string &network) {
  return {{"type", "flycast.allocated"}, {"app", app}, {"address", address}, {"network", network}};
}

}  // namespace sixguard::test
