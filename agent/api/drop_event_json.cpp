#include "agent/api/drop_event_json.h"

#include <net/if.h>
#include <time.h>

#include <cstdio>

#include "agent/core/address.h"
#include "agent/datapath/names.h"  // agent/datapath

namespace sixguard {
namespace {

int64_t clock_ns(clockid_t clock) {
  timespec now{};
  ::clock_gettime(clock, &now);
  return static_cast<int64_t>(now.tv_sec) * 1'000'000'000 + now.tv_nsec;
}

void add_names(nlohmann::json &out, const std::string &prefix, const AddressNames &names) {
  if (!names.machine.empty()) out[prefix + "machine"] = names.machine;
  if (!names.app.empty()) out[prefix + "app"] = names.app;
  if (!names.network.empty()) out[prefix + "network"] = names.network;
  if (!names.org.empty()) out[prefix + "org"] = names.org;
}

}  // namespace

std::string monotonic_to_rfc3339(uint64_t monotonic_ns) {
  // Read back to back: the offset is exact to the microsecond, which is the precision shown.
  const int64_t offset = clock_ns(CLOCK_REALTIME) - clock_ns(CLOCK_MONOTONIC);
  const int64_t wall = static_cast<int64_t>(monotonic_ns) + offset;
  const time_t seconds = static_cast<time_t>(wall / 1'000'000'000);
  const long micros = static_cast<long>((wall % 1'000'000'000) / 1000);
  tm utc{};
  ::gmtime_r(&seconds, &utc);
  char text[48];
  const std::size_t length = std::strftime(text, sizeof(text), "%Y-%m-%dT%H:%M:%S", &utc);
  std::snprintf(text + length, sizeof(text) - length, ".%06ldZ", micros);
  return text;
}

nlohmann::json drop_event_json(const sg_drop_event &event) {
  nlohmann::json out = {{"time", monotonic_to_rfc3339(event.timestamp_ns)},
                        {"timestamp_ns", event.timestamp_ns},
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

nlohmann::json drop_event_json(const sg_drop_event &event, const AddressNames &src,
                               const AddressNames &dst) {
  nlohmann::json out = drop_event_json(event);
  add_names(out, "src_", src);
  add_names(out, "dst_", dst);
  return out;
}

}  // namespace sixguard
