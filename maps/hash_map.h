// Typed views over key/value BPF maps: HashMap<K,V> (BPF_MAP_TYPE_HASH) and LpmTrie<V>
// (BPF_MAP_TYPE_LPM_TRIE keyed by sg_lpm_key). Keys and values are the shared structures of
// sixguard_shared.h, copied by value; no void* crosses this interface.
//
// Errors name the map, the operation and the errno. Two codes have a fixed meaning callers
// may test: ENOENT from remove() (the key was not there) and ENOSPC from update() (the map is
// full: the kernel says E2BIG for a full hash, ENOSPC for a full trie; both become ENOSPC
// here, with the capacity in the message).
#pragma once

#include <bpf/bpf.h>
#include <linux/bpf.h>

#include <cerrno>
#include <cstddef>
#include <cstdint>
#include <functional>
#include <optional>
#include <type_traits>
#include <utility>
#include <vector>

#include "maps/map_error.h"
#include "maps/map_handle.h"
#include "maps/typed_map.h"
#include "bpf/include/sixguard_shared.h"

namespace sixguard::maps {

enum class UpdateFlag : uint64_t {
  kAny = BPF_ANY,          // create or replace
  kNoExist = BPF_NOEXIST,  // create only; EEXIST if present
  kExist = BPF_EXIST,      // replace only; ENOENT if absent
};

// The operations shared by every key/value map type (HashMap, LpmTrie).
template <typename View, bpf_map_type kMapType, typename K, typename V>
class KeyValueMap : public TypedMap<View, kMapType, K, V> {
  using Base = TypedMap<View, kMapType, K, V>;
  using Base::handle_;  // a dependent base's members: named once here

 public:
  using Base::name;
  uint32_t max_entries() const { return handle_.max_entries(); }

  // The value at key, or nullopt when there is none. For an LpmTrie this is the longest
  // prefix match of the key's address up to the key's prefixlen.
  Result<std::optional<V>> lookup(const K &key) const {
    V value{};
    if (bpf_map_lookup_elem(handle_.fd(), &key, &value) != 0) {
      if (errno == ENOENT) return std::optional<V>();
      return map_error(name(), "lookup", errno);
    }
    return std::optional<V>(value);
  }

  Status update(const K &key, const V &value, UpdateFlag flag = UpdateFlag::kAny) {
    if (bpf_map_update_elem(handle_.fd(), &key, &value, static_cast<uint64_t>(flag)) != 0) {
      int code = errno;
      if (code == E2BIG || code == ENOSPC) {
        return map_error(name(), "update: map full (" + std::to_string(max_entries()) + " entries)",
                         ENOSPC);
      }
      return map_error(name(), "update", code);
    }
    return {};
  }

  // ENOENT (error().code) when the key was not present.
  Status remove(const K &key) {
    if (bpf_map_delete_elem(handle_.fd(), &key) != 0) return map_error(name(), "delete", errno);
    return {};
  }

  // Calls fn(key, value) for every entry. Entries deleted during the walk are skipped. The
  // walk is bounded (a hash walk restarts when its cursor key disappears concurrently), and
  // exceeding the bound is an error rather than a hang.
  Status for_each(const std::function<void(const K &, const V &)> &fn) const {
    auto batched = batch_walk(fn);
    if (!batched) return batched.error();
    if (*batched) return {};
    return walk_keys([&](const K &key) -> Status {
      V value{};
      if (bpf_map_lookup_elem(handle_.fd(), &key, &value) != 0) {
        if (errno == ENOENT) return {};  // deleted since get_next_key returned it
        return map_error(name(), "lookup", errno);
      }
      fn(key, value);
      return {};
    });
  }

  Result<std::vector<std::pair<K, V>>> dump() const {
    std::vector<std::pair<K, V>> entries;
    auto status = for_each([&](const K &key, const V &value) { entries.emplace_back(key, value); });
    if (!status) return status.error();
    return entries;
  }

  // Number of entries: batched reads where the map type supports them (hash: a few syscalls
  // per thousand entries), else a walk of the keys (one syscall per entry).
  Result<std::size_t> count() const {
    std::size_t entries = 0;
    auto batched = batch_walk([&](const K &, const V &) { ++entries; });
    if (!batched) return batched.error();
    if (*batched) return entries;
    entries = 0;
    auto status = walk_keys([&](const K &) -> Status {
      ++entries;
      return {};
    });
    if (!status) return status.error();
    return entries;
  }

 protected:
  explicit KeyValueMap(MapHandle handle) : Base(std::move(handle)) {}

 private:
  // Reads the whole map with BPF_MAP_LOOKUP_BATCH. Returns false (nothing called) when the
  // map type has no batch support (LPM tries), so the caller walks keys instead.
  Result<bool> batch_walk(const std::function<void(const K &, const V &)> &fn) const {
    uint32_t chunk = 4096;
    std::vector<K> keys(chunk);
    std::vector<V> values(chunk);
    // The batch cursor is opaque; the kernel wants room for at least a key.
    std::vector<unsigned char> cursor_in(sizeof(K) < 8 ? 8 : sizeof(K));
    std::vector<unsigned char> cursor_out(cursor_in.size());
    bool first = true;
    for (;;) {
      __u32 count = chunk;
      int err =
          bpf_map_lookup_batch(handle_.fd(), first ? nullptr : cursor_in.data(), cursor_out.data(),
                               keys.data(), values.data(), &count, nullptr);
      if (err != 0) err = errno;
      if (err != 0 && err != ENOENT) {
        if (first && (err == EINVAL || err == EOPNOTSUPP || err == 524 /* ENOTSUPP */)) {
          return false;
        }
        if (err == ENOSPC && chunk < (1u << 22)) {  // one bucket holds more than a chunk
          chunk *= 2;
          keys.resize(chunk);
          values.resize(chunk);
          continue;
        }
        return map_error(name(), "lookup_batch", err);
      }
      for (__u32 i = 0; i < count; ++i) fn(keys[i], values[i]);
      if (err == ENOENT) return true;  // that was the last batch
      cursor_in = cursor_out;
      first = false;
    }
  }

  Status walk_keys(const std::function<Status(const K &)> &fn) const {
    K key{};
    K next{};
    const K *cursor = nullptr;  // nullptr: start from the first key
    const uint64_t bound = 2ull * max_entries() + 16;
    for (uint64_t steps = 0;; ++steps) {
      if (steps > bound) return map_error(name(), "walk: did not terminate", EAGAIN);
      if (bpf_map_get_next_key(handle_.fd(), cursor, &next) != 0) {
        if (errno == ENOENT) return {};  // past the last key
        return map_error(name(), "get_next_key", errno);
      }
      if (auto status = fn(next); !status) return status;
      key = next;
      cursor = &key;
    }
  }
};

// BPF_MAP_TYPE_HASH.
template <typename K, typename V>
class HashMap : public KeyValueMap<HashMap<K, V>, BPF_MAP_TYPE_HASH, K, V> {
  friend TypedMap<HashMap, BPF_MAP_TYPE_HASH, K, V>;  // open() is the only way in
  explicit HashMap(MapHandle handle)
      : KeyValueMap<HashMap, BPF_MAP_TYPE_HASH, K, V>(std::move(handle)) {}
};

// BPF_MAP_TYPE_LPM_TRIE keyed by sg_lpm_key (prefixlen + IPv6 address). lookup() is the
// kernel's longest-prefix match; exact presence of a prefix is visible through dump().
template <typename V>
class LpmTrie : public KeyValueMap<LpmTrie<V>, BPF_MAP_TYPE_LPM_TRIE, sg_lpm_key, V> {
  friend TypedMap<LpmTrie, BPF_MAP_TYPE_LPM_TRIE, sg_lpm_key, V>;
  explicit LpmTrie(MapHandle handle)
      : KeyValueMap<LpmTrie, BPF_MAP_TYPE_LPM_TRIE, sg_lpm_key, V>(std::move(handle)) {}

 public:
  // The value of the longest prefix containing address, or nullopt.
  Result<std::optional<V>> longest_match(const sg_in6 &address) const {
    sg_lpm_key key{};
    key.prefixlen = 128;
    key.addr = address;
    return this->lookup(key);
  }
};

}  // namespace sixguard::maps
