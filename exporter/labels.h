// The bounded label values of every sixguard metric (DESIGN §4). Every label value the
// exporter emits comes from one of these tables, so the number of series is fixed by the
// code, never by the number of machines, apps, networks or addresses on the host.
#pragma once

#include <array>
#include <cstddef>
#include <string_view>

#include "agent/datapath/names.h"
#include "bpf/include/sixguard_shared.h"

namespace sixguard::exporter {

// hook, verdict and reason values: kHookNames, kVerdictNames, kReasonNames of
// agent/datapath/names.h (the one place they are spelled), indexed by the shared enums.

// Indexed by enum sg_event_stat: what happened to a drop event meant for the monitor.
// "lost" is SG_EVSTAT_RINGBUF_FULL: the ring buffer had no room (nobody reading fast enough).
inline constexpr std::array<std::string_view, SG_EVSTAT_COUNT> kMonitorResultNames = {
    "sent", "rate_limited", "lost"};

// The control-plane event types of DESIGN §3; anything else is counted as kUnknownEventType.
inline constexpr std::array<std::string_view, 8> kEventTypes = {
    "network.created", "app.created",       "app.destroyed",    "machine.started",
    "machine.stopped", "flycast.allocated", "flycast.released", "network.mode"};
inline constexpr std::string_view kUnknownEventType = "unknown";

// The results ControlObserver::event_result reports (agent/control/observer.h); anything else
// is counted as kOtherEventResult.
inline constexpr std::array<std::string_view, 7> kEventResults = {
    "applied", "unchanged", "malformed", "conflict", "invalid", "map_full", "internal"};
inline constexpr std::string_view kOtherEventResult = "other";

// The maps that can fill: hash and LPM maps whose entries come and go with machines, Flycast
// addresses, infrastructure prefixes and per-network modes. A full one fails closed and
// refuses events (DESIGN §5), so their pressure is what operators watch. The label is the
// map's config key (map_sizes.<label>, agent/datapath/names.h kMapLabel*), which is what an
// operator raises. The other maps are not exported: arrays (sg_config, sg_counters,
// sg_event_stats, sg_ratelimit) always hold exactly max_entries elements and cannot fill, and
// the ring buffer sg_events has no entries (its overflow is
// sixguard_monitor_events_total{result="lost"}).
struct MapLabel {
  std::string_view kernel_name;  // the pin's name under <bpffs>/sixguard
  std::string_view label;        // sixguard_map_entries{map="<label>"}
};
inline constexpr std::array<MapLabel, 4> kMapLabels = {{
    {SG_MAP_MACHINES, kMapLabelMachines},
    {SG_MAP_FLYCAST, kMapLabelFlycast},
    {SG_MAP_INFRA, kMapLabelInfra},
    {SG_MAP_NET_FLAGS, kMapLabelNetFlags},
}};

// The bounded value for a reported event type / result.
std::string_view bounded_event_type(std::string_view type);
std::string_view bounded_event_result(std::string_view result);

}  // namespace sixguard::exporter
