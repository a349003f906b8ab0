// sg_owner_slots (sixguard_shared.h, struct sg_owner_slot) through its mmap'd memory: the
// seqlock writer the agent is, and a reader for checking what the slots hold. A syscall
// update cannot be the writer: the kernel copies the value with a plain memcpy while programs
// read it, so a reader could take half of two owners for one. Through the mapping, the seq
// goes odd before the first field changes and even after the last, and a program that sees
// the same even seq before and after its copy knows the copy is whole.
//
// One writer at a time (the control plane writes under its lock); readers are the programs
// and read_slot().
#pragma once

#include <cstddef>
#include <cstdint>
#include <optional>

#include "agent/core/result.h"
#include "bpf/include/sixguard_shared.h"
#include "maps/map_handle.h"

namespace sixguard::maps {

// What one slot holds, read as a seqlock reader.
struct OwnerSlotRead {
  bool torn = false;     // the seq stayed odd: a write was cut short (or is still going on)
  uint32_t ifindex = 0;  // 0: empty
  sg_machine machine{};  // valid when !torn && ifindex != 0
};

class OwnerSlots {
 public:
  // Checks the map (a BPF_F_MMAPABLE array of sg_owner_slot, a power-of-two size) and maps it.
  static Result<OwnerSlots> open(MapHandle handle);
  ~OwnerSlots();
  OwnerSlots(OwnerSlots &&other) noexcept;
  OwnerSlots &operator=(OwnerSlots &&other) noexcept;
  OwnerSlots(const OwnerSlots &) = delete;
  OwnerSlots &operator=(const OwnerSlots &) = delete;

  const MapHandle &handle() const { return handle_; }
  uint32_t size() const { return handle_.max_entries(); }
  // The slot the programs look ifindex up in (ifindex & (size - 1), as sg_owner_slot_mask).
  uint32_t index_of(uint32_t ifindex) const { return ifindex & (size() - 1); }

  // Makes the slot of ifindex hold (ifindex, machine), whatever it held (another interface
  // colliding on it then goes back to the hash). Call after the sg_machines entry is written.
  void write(uint32_t ifindex, const sg_machine &machine);
  // Empties the slot of ifindex if it holds ifindex (a collider's entry stays). Call before the
  // sg_machines entry is deleted. Returns whether it was holding it.
  bool clear(uint32_t ifindex);
  // Empties slot index whatever it holds (a torn or misplaced entry found by a check).
  void clear_index(uint32_t index);
  // Empties every slot that is not empty already. Returns how many it emptied.
  uint32_t clear_all();
  // What slot index holds, read as a seqlock reader. A seq still odd after a few retries is
  // returned as it is: a write cut short (the agent died in it), which a check clears.
  sg_owner_slot read_slot(uint32_t index) const;

  // Tests only: writes the raw words of slot index as a seqlock writer would not (e.g. an odd
  // seq left in place), to show what the programs make of it.
  void write_raw_for_test(uint32_t index, const sg_owner_slot &raw);

 private:
  OwnerSlots(MapHandle handle, void *memory, std::size_t bytes)
      : handle_(std::move(handle)), memory_(memory), bytes_(bytes) {}
  sg_owner_slot *slot(uint32_t index) const {
    return static_cast<sg_owner_slot *>(memory_) + index;
  }
  // Writes ifindex and machine into slot index under the seqlock.
  void publish(uint32_t index, uint32_t ifindex, const sg_machine &machine);

  MapHandle handle_;
  void *memory_ = nullptr;
  std::size_t bytes_ = 0;
};

}  // namespace sixguard::maps
