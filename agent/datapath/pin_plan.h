// Which pinned maps a load reuses and which it migrates (DESIGN §5: "Resizing and upgrading
// never open a window").
//
// A pinned map is reused when it is exactly what this build would create: type, key and value
// size, max_entries, flags, and the layout version recorded in sg_meta. Otherwise it is
// migrated, never reused and never misread:
//   1. the load creates the new map and pins it under a staging name (<name>_next: bpffs
//      refuses dots in names) while the old pin, and the programs attached to it, stay;
//   2. copy_entries() copies every entry when only the capacity differs (same type, sizes and
//      layout version: counters and statistics keep counting; a map of another layout starts
//      empty and the control plane fills it from its state, by difference, as for any map);
//   3. the agent reconciles, then attaches the new programs: each interface's old program is
//      replaced atomically (its map IDs are not ours: prog_info.h);
//   4. commit() renames every staging pin over the old one (rename is atomic on bpffs: the
//      name always resolves to one map or the other) and records the layouts in sg_meta. The
//      old maps go away with the last program that used them.
// A crash anywhere before 4 leaves the old pins in place and the old programs or new ones
// enforcing; the next start removes stale staging pins and migrates again.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "agent/core/result.h"

struct bpf_object;

namespace sixguard {

struct MapMigration {
  std::string name;           // e.g. "sg_machines"
  std::string why;            // "max_entries 16384 -> 32768", "layout 0 -> 1", ...
  bool copy_entries = false;  // same layout: entries copied from the old map
};

struct PinPlan {
  std::string pin_dir;
  std::vector<MapMigration> migrations;

  bool migrating(std::string_view name) const;
  std::string final_path(std::string_view name) const;    // <pin_dir>/<name>
  std::string staging_path(std::string_view name) const;  // <pin_dir>/<name>_next
};

// Compares every pin in pin_dir with what object (opened, sized, not loaded) would create.
// Refuses (clear error, nothing changed) a capacity below the entries the pinned map holds
// now: the map would overflow and the datapath would lose entries. Removes staging pins a
// migration cut short left behind.
Result<PinPlan> check_pinned_maps(bpf_object *object, const std::string &pin_dir);

// Points the migrating maps of object (not yet loaded) at their staging pins; every instance
// of the object that must share the maps (the main one, libxdp's, the tag probe) gets it.
Status apply_pin_plan(bpf_object *object, const PinPlan &plan);

// Step 2: after the load, copies what the old pins hold into the new maps where the plan says
// so. Returns how many entries were copied per map, for the log.
Result<std::vector<std::string>> copy_entries(bpf_object *loaded, const PinPlan &plan);

// Step 4: staging pins renamed over the old ones, then sg_meta written with this build's
// layouts (also when nothing migrated: a pin directory an older build left gets its sg_meta).
Status commit_pin_plan(bpf_object *loaded, const PinPlan &plan);

// Entries the map pinned at path holds, whatever its layout (keys walked; arrays: capacity).
Result<uint64_t> count_pinned_entries(const std::string &path);

// This build's layout version of a map (SG_LAYOUT_*), and its slot in sg_meta; -1 if none.
int layout_slot(std::string_view map_name);
uint32_t layout_version(std::string_view map_name);

}  // namespace sixguard
