// What the datapath maps must change, and writing it: the one place the control plane's
// incremental diff lives. After a batch it writes the entries of the keys the batch touched
// (the registry before the batch, seen through its net changes, versus after); after an
// interface change, the ifindexes the name left and took; a reconcile or a repair writes
// everything that differs between what the maps hold and the full image. It owns the cache
// of resolved interfaces that sg_machines is keyed by. Not thread-safe: ControlPlane calls
// it under its lock, and keeps the state, the validation and whether the maps are in sync.
#pragma once

#include <cstddef>
#include <cstdint>
#include <optional>
#include <string>

#include "agent/control/control_config.h"
#include "agent/control/desired_maps.h"
#include "agent/control/ifindex_cache.h"
#include "agent/control/interface_resolver.h"
#include "agent/control/map_backend.h"
#include "agent/control/state.h"
#include "agent/control/state_journal.h"

namespace sixguard {

class MapDelta {
 public:
  // config, maps and resolver must outlive the delta.
  MapDelta(const ControlConfig &config, MapBackend &maps, InterfaceResolver &resolver);

  // Start, or after a failed write seen by an interface change: every interface resolved
  // again, every map read, and whatever differs from the image of state written.
  Status reconcile(const State &state);
  // After a failed write: the same without resolving again the interfaces already cached
  // (names no machine owns any more are dropped).
  Status repair(const State &state);
  // After a committed batch: the entries of the keys it touched, before versus after.
  // Requires the maps to hold the image of the state before it (a reconcile or every
  // write since succeeded).
  Status write_batch(const State &after, const StateDelta &delta);
  // An interface of a machine in state appeared (ifindex), went (nullopt) or moved; the
  // same precondition as write_batch.
  Status write_interface(const State &state, const std::string &name,
                         std::optional<uint32_t> ifindex);

  // The full image of state (resolving interfaces not cached yet).
  MapImage image(const State &state);
  // The image of state at keys only. Every machine's interface must be cached (an image(),
  // a reconcile or a batch since resolved it).
  MapImage image_at(const State &state, const MapKeys &keys) const;

  // The ifindex an interface resolved to when sg_machines was last written: nullopt, not
  // resolved yet; else the answer (itself nullopt: absent).
  std::optional<std::optional<uint32_t>> cached(const std::string &name) const {
    return interfaces_.find(name);
  }
  std::size_t resolved_count() const { return interfaces_.resolved_count(); }
  // Machine entries write_batch has recomputed, in all: evidence that a batch's cost follows
  // the entries it can change, not the size of the apps it names.
  uint64_t machines_recomputed() const { return machines_recomputed_; }

 private:
  std::optional<uint32_t> resolve(const std::string &name);  // cached, else asks the resolver

  const ControlConfig &config_;
  MapBackend &maps_;
  InterfaceResolver &resolver_;
  IfindexCache interfaces_;  // every machine's interface, while the maps are in sync
  uint64_t machines_recomputed_ = 0;
};

}  // namespace sixguard
