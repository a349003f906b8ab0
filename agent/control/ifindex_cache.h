// The ifindex each machine interface name resolved to when sg_machines was last written,
// and the reverse: the names that resolved to an ifindex. sg_machines is keyed by ifindex,
// and its entry for one ifindex depends on every machine whose interface resolved to it (two
// names on one ifindex only happen with a stale resolver answer); the reverse index lets a
// batch or an interface change recompute just the ifindexes it touched.
#pragma once

#include <cstdint>
#include <map>
#include <optional>
#include <set>
#include <string>

namespace sixguard {

class IfindexCache {
 public:
  // nullopt: not resolved yet. Otherwise the cached answer (itself nullopt: absent).
  std::optional<std::optional<uint32_t>> find(const std::string &name) const {
    const auto it = by_name_.find(name);
    if (it == by_name_.end()) return std::nullopt;
    return it->second;
  }

  // 0 is never an ifindex: stored as absent.
  void set(const std::string &name, std::optional<uint32_t> ifindex) {
    if (ifindex && *ifindex == 0) ifindex.reset();
    erase(name);
    by_name_.emplace(name, ifindex);
    if (ifindex) {
      by_ifindex_[*ifindex].insert(name);
      ++resolved_;
    }
  }

  void erase(const std::string &name) {
    const auto it = by_name_.find(name);
    if (it == by_name_.end()) return;
    if (it->second) {
      --resolved_;
      const auto names = by_ifindex_.find(*it->second);
      names->second.erase(name);
      if (names->second.empty()) by_ifindex_.erase(names);
    }
    by_name_.erase(it);
  }

  void clear() {
    by_name_.clear();
    by_ifindex_.clear();
    resolved_ = 0;
  }

  std::size_t resolved_count() const { return resolved_; }  // names with an ifindex

  const std::set<std::string> &names_at(uint32_t ifindex) const {
    static const std::set<std::string> kNone;
    const auto it = by_ifindex_.find(ifindex);
    return it == by_ifindex_.end() ? kNone : it->second;
  }

  const std::map<std::string, std::optional<uint32_t>> &entries() const { return by_name_; }

 private:
  std::map<std::string, std::optional<uint32_t>> by_name_;
  std::map<uint32_t, std::set<std::string>> by_ifindex_;
  std::size_t resolved_ = 0;
};

}  // namespace sixguard
