// Drift (DESIGN §5, "the kernel is checked, not trusted"): what the datapath maps hold,
// compared with the image of the state (desired_maps.h, the same code every batch and
// reconcile writes with: one source of truth). Each difference is named (map, key, what is
// wrong) for the warning the drift checker logs and the label it counts, and the two partial
// images at the differing keys are exactly what write_difference needs to repair them.
#pragma once

#include <cstddef>
#include <string>
#include <string_view>
#include <vector>

#include "agent/control/desired_maps.h"

namespace sixguard {

enum class DriftKind {
  kMissing,    // the state wants an entry the map does not hold
  kExtra,      // the map holds an entry the state does not want
  kDifferent,  // both have the key, with different values
};
std::string_view drift_kind_name(DriftKind kind);  // "missing" | "extra" | "different"

struct MapDifference {
  std::string_view map;    // the kernel map's name (SG_MAP_MACHINES, ...)
  std::string_view label;  // sixguard_drift_repairs_total{map}: "machines", "flycast", ...
  DriftKind kind = DriftKind::kMissing;
  std::string key;     // "ifindex 7", an address, a prefix, a network id, "0" (sg_config)
  std::string detail;  // held versus wanted, e.g. "network_id b:1, wanted a:1"
};

struct MapDrift {
  std::vector<MapDifference> differences;
  // The entries at the differing keys only: held (what the maps have) and wanted (the
  // image). write_difference(maps, held, wanted) repairs exactly those keys. Their configs
  // are equal unless sg_config itself differs.
  MapImage held;
  MapImage wanted;

  bool empty() const { return differences.empty(); }
};

// Every difference between what the maps hold and the image of the state.
MapDrift compare_maps(const MapImage &held, const MapImage &wanted);

// The keys of every difference (for MapDelta::image_at: the image now at those keys), and the
// ifindexes wrong owner slots name (still_wanted judges each slot against them again).
MapKeys keys_of(const MapDrift &drift);

// The drift at the keys where the image of the state now (a partial image at keys_of(drift),
// taken under the lock) still wants what it wanted when the drift was found. A key whose
// desired entry changed since (a batch touched it) is left out: a repair there could write a
// stale value, and the maps may already hold the new one. At the keys kept, writing what the
// image wants is right whatever the kernel holds now.
MapDrift still_wanted(const MapDrift &drift, const MapImage &now);

// What the maps hold now at the keys of drift (looked up one by one: cost follows the
// differences), in the form compare_maps(read_at(...), drift.wanted) takes: the config is
// read only when drift is about it, else taken from drift.wanted.
Result<MapImage> read_at(MapBackend &maps, const MapDrift &drift);

// The labels compare_maps uses, in a fixed order (the metric's series exist from the start).
inline constexpr std::string_view kDriftMapLabels[] = {"machines",  "flycast", "infra",
                                                       "net_flags", "config",  "owner_slots"};

}  // namespace sixguard
