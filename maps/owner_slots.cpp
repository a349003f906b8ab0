#include "maps/owner_slots.h"

#include <linux/bpf.h>
#include <sys/mman.h>
#include <unistd.h>

#include <atomic>
#include <cerrno>
#include <cstring>
#include <utility>

#include "maps/map_error.h"

namespace sixguard::maps {
namespace {

constexpr std::size_t kWords = sizeof(sg_owner_slot) / sizeof(uint32_t);
static_assert(sizeof(sg_owner_slot) % sizeof(uint32_t) == 0);

// The slot as the 32-bit words the programs load. Every access goes through atomic_ref: the
// memory is shared with readers in the kernel, so plain accesses would be a data race the
// compiler may tear or merge; relaxed word accesses are single movs on x86.
uint32_t *words(sg_owner_slot *slot) {
  return reinterpret_cast<uint32_t *>(slot);
}

void store_word(uint32_t *word, uint32_t value, std::memory_order order) {
  std::atomic_ref<uint32_t>(*word).store(value, order);
}
uint32_t load_word(uint32_t *word, std::memory_order order) {
  return std::atomic_ref<uint32_t>(*word).load(order);
}

}  // namespace

Result<OwnerSlots> OwnerSlots::open(MapHandle handle) {
  if (auto status = handle.expect(BPF_MAP_TYPE_ARRAY, sizeof(uint32_t), sizeof(sg_owner_slot));
      !status) {
    return status.error();
  }
  const uint32_t entries = handle.max_entries();
  if (!(handle.info().map_flags & BPF_F_MMAPABLE)) {
    return map_error(handle.name(), "not BPF_F_MMAPABLE", EINVAL);
  }
  if (entries == 0 || (entries & (entries - 1)) != 0) {
    return map_error(handle.name(),
                     "max_entries " + std::to_string(entries) + " is not a power of two", EINVAL);
  }
  const auto page = static_cast<std::size_t>(::sysconf(_SC_PAGESIZE));
  const std::size_t bytes = (std::size_t{entries} * sizeof(sg_owner_slot) + page - 1) / page * page;
  void *memory = ::mmap(nullptr, bytes, PROT_READ | PROT_WRITE, MAP_SHARED, handle.fd(), 0);
  if (memory == MAP_FAILED) return map_error(handle.name(), "mmap", errno);
  return OwnerSlots(std::move(handle), memory, bytes);
}

OwnerSlots::~OwnerSlots() {
  if (memory_ != nullptr) ::munmap(memory_, bytes_);
}

OwnerSlots::OwnerSlots(OwnerSlots &&other) noexcept
    : handle_(std::move(other.handle_)),
      memory_(std::exchange(other.memory_, nullptr)),
      bytes_(std::exchange(other.bytes_, 0)) {}

OwnerSlots &OwnerSlots::operator=(OwnerSlots &&other) noexcept {
  if (this != &other) {
    if (memory_ != nullptr) ::munmap(memory_, bytes_);
    handle_ = std::move(other.handle_);
    memory_ = std::exchange(other.memory_, nullptr);
    bytes_ = std::exchange(other.bytes_, 0);
  }
  return *this;
}

void OwnerSlots::publish(uint32_t index, uint32_t ifindex, const sg_machine &machine) {
  uint32_t *w = words(slot(index));
  // The only writer: the seq it reads is its own last store. An odd seq left by a writer that
  // died mid-write is made even by this write (odd + 1 is odd + 2 after the next step).
  const uint32_t seq = load_word(&w[0], std::memory_order_relaxed);
  const uint32_t odd = (seq | 1u) + ((seq & 1u) ? 2u : 0u);
  store_word(&w[0], odd, std::memory_order_relaxed);
  // The odd seq is visible before any field changes (a release fence orders it before the
  // stores that follow).
  std::atomic_thread_fence(std::memory_order_release);
  sg_owner_slot value{};
  value.ifindex = ifindex;
  value.machine = machine;
  uint32_t fields[kWords];
  std::memcpy(fields, &value, sizeof(value));
  for (std::size_t i = 1; i < kWords; ++i) store_word(&w[i], fields[i], std::memory_order_relaxed);
  // Every field is visible before the seq goes even.
  store_word(&w[0], odd + 1, std::memory_order_release);
}

void OwnerSlots::write(uint32_t ifindex, const sg_machine &machine) {
  publish(index_of(ifindex), ifindex, machine);
}

bool OwnerSlots::clear(uint32_t ifindex) {
  const uint32_t index = index_of(ifindex);
  if (load_word(&words(slot(index))[1], std::memory_order_relaxed) != ifindex) return false;
  publish(index, 0, sg_machine{});
  return true;
}

void OwnerSlots::clear_index(uint32_t index) {
  publish(index, 0, sg_machine{});
}

uint32_t OwnerSlots::clear_all() {
  uint32_t emptied = 0;
  for (uint32_t index = 0; index < size(); ++index) {
    const sg_owner_slot held = read_slot(index);
    if (held.ifindex == 0 && !(held.seq & 1u)) continue;
    clear_index(index);
    ++emptied;
  }
  return emptied;
}

sg_owner_slot OwnerSlots::read_slot(uint32_t index) const {
  uint32_t *w = words(slot(index));
  // The agent's own writes never overlap its reads (one thread writes, under the control
  // plane's lock), so an odd seq that lasts is a write cut short: a few tries are enough.
  uint32_t seq = 0;
  for (int attempt = 0; attempt < 64; ++attempt) {
    seq = load_word(&w[0], std::memory_order_acquire);
    if (seq & 1u) continue;
    uint32_t fields[kWords];
    for (std::size_t i = 1; i < kWords; ++i)
      fields[i] = load_word(&w[i], std::memory_order_relaxed);
    std::atomic_thread_fence(std::memory_order_acquire);
    if (load_word(&w[0], std::memory_order_relaxed) != seq) continue;
    fields[0] = seq;
    sg_owner_slot value;
    std::memcpy(&value, fields, sizeof(value));
    return value;
  }
  sg_owner_slot torn{};
  torn.seq = seq;
  return torn;
}

void OwnerSlots::write_raw_for_test(uint32_t index, const sg_owner_slot &raw) {
  uint32_t fields[kWords];
  std::memcpy(fields, &raw, sizeof(raw));
  uint32_t *w = words(slot(index));
  for (std::size_t i = 0; i < kWords; ++i) store_word(&w[i], fields[i], std::memory_order_relaxed);
}

}  // namespace sixguard::maps
