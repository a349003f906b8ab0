#include "drop_event_json.h"

#include <net/if.h>

#include "address.h"
#include "names.h"  // agent/datapath

namespace sixguard {

nlohmann::json drop_event_json(const sg_drop_event &event) {
  nlohmann::json out = {{"timestamp_ns", event.timestamp_ns},
                        {"hook", hook_name(event.hook)},
                        {"verdict", verdict_name(event.verdict)},
                        {"reason", reason_name(event.reason)},
                        {"src", Ipv6::from(event.src).str()},
                        {"dst", Ipv6::from(event.dst).str()},
                        {"ifindex", event.ifindex},
                        {"packet_len", event.packet_len}};
  char name[IF_NAMESIZE] = {};
  if (event.ifindex != 0 && ::if_indextoname(event.ifindex, name)) out["interface"] = name;
  return out;
}

}  // namespace sixguard
