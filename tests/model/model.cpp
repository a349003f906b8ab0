#include "tests/model/model.h"

#include <cstdio>

namespace sixguard::model {

namespace {

constexpr uint16_t kEthIpv6 = 0x86dd;
constexpr uint16_t kEthIpv4 = 0x0800;
constexpr uint16_t kEthVlan = 0x8100;
constexpr uint16_t kEthQinQ = 0x88a8;
constexpr uint16_t kEthTeb = 0x6558;
constexpr uint16_t kVxlanPort = 4789;
constexpr uint16_t kGenevePort = 6081;
constexpr int kMaxLevels = 3;
constexpr int kMaxExtHeaders = 8;
constexpr int kMaxVlanTags = 2;

bool reason_drops(uint8_t reason) {
  return reason == SG_REASON_MALFORMED || reason == SG_REASON_SPOOFED_SOURCE ||
         reason == SG_REASON_NOT_FOR_MACHINE || reason == SG_REASON_CROSS_NETWORK;
}

bool is_link_local(const Ipv6 &a) {
  return a.octets[0] == 0xfe && (a.octets[1] & 0xc0) == 0x80;
}
bool is_multicast(const Ipv6 &a) {
  return a.octets[0] == 0xff;
}
bool is_unspecified(const Ipv6 &a) {
  return a == Ipv6{};
}

// One IP header of the walk. IPv4 levels are not judged: only a malformed one counts.
struct Level {
  bool ipv6 = false;
  uint8_t reason = SG_REASON_NOT_6PN;  // meaningful for IPv6 levels and malformed ones
  bool malformed = false;
  bool have_addresses = false;  // src/dst: the last IPv6 header read with version 6
  Ipv6 src, dst;
};

// What follows the part of the packet just read.
struct Next {
  enum Kind { kEnd, kIpv6, kIpv4, kMalformed } kind = kEnd;
  size_t offset = 0;
};

class Walk {
 public:
  Walk(const std::vector<uint8_t> &packet, Hook hook, const Env &env, PlantedBug bug)
      : p_(packet), hook_(hook), env_(env), bug_(bug) {}

  std::vector<Level> run(uint16_t l3_protocol) {
    Next next;
    if (has_ethernet(hook_)) {
      next = ethernet(0);
    } else if (l3_protocol == kEthIpv6) {
      next = {Next::kIpv6, 0};
    } else if (l3_protocol == kEthIpv4) {
      next = {Next::kIpv4, 0};
    }
    while (true) {
      if (next.kind == Next::kEnd) break;
      if (next.kind == Next::kMalformed) {
        // Before any IP header (outer Ethernet): a level of its own, with no addresses.
        add_malformed();
        break;
      }
      if (static_cast<int>(levels_.size()) == kMaxLevels) {
        add_malformed();  // a 4th IP header: it would have to be checked and cannot be
        break;
      }
      next = next.kind == Next::kIpv6 ? ipv6_level(next.offset) : ipv4_level(next.offset);
      if (!levels_.empty() && levels_.back().malformed) break;
    }
    return levels_;
  }

 private:
  bool has(size_t off, size_t len) const { return off <= p_.size() && len <= p_.size() - off; }
  uint8_t u8(size_t off) const { return p_[off]; }
  uint16_t be16(size_t off) const { return static_cast<uint16_t>((p_[off] << 8) | p_[off + 1]); }

  void add_malformed() {
    Level level;
    level.malformed = true;
    level.reason = SG_REASON_MALFORMED;
    level.have_addresses = have_last_;
    level.src = last_src_;
    level.dst = last_dst_;
    levels_.push_back(level);
  }

  // Ethernet (outer, or inside VXLAN/Geneve/GRE TEB) with at most two VLAN tags.
  Next ethernet(size_t off) {
    if (!has(off, 14)) return {Next::kMalformed};
    uint16_t type = be16(off + 12);
    off += 14;
    int tags = 0;
    while (type == kEthVlan || type == kEthQinQ) {
      if (tags == kMaxVlanTags || !has(off, 4)) return {Next::kMalformed};
      type = be16(off + 2);
      off += 4;
      ++tags;
    }
    if (type == kEthIpv6) return {Next::kIpv6, off};
    if (type == kEthIpv4) return {Next::kIpv4, off};
    return {Next::kEnd};  // ARP, MPLS, PPPoE, 0x9100...: not 6PN, not parsed
  }

  Next gre(size_t off) {
    if (!has(off, 4)) return {Next::kMalformed};
    const uint16_t flags = be16(off);
    if (flags & 0x4007) return {Next::kMalformed};  // routing bit, or version != 0
    size_t len = 4;
    if (flags & 0x8000) len += 4;  // checksum
    if (flags & 0x2000) len += 4;  // key
    if (flags & 0x1000) len += 4;  // sequence
    if (!has(off, len)) return {Next::kMalformed};
    const uint16_t protocol = be16(off + 2);
    if (protocol == kEthIpv6) return {Next::kIpv6, off + len};
    if (protocol == kEthIpv4) return {Next::kIpv4, off + len};
    if (protocol == kEthTeb) return ethernet(off + len);
    return {Next::kMalformed};
  }

  bool encap_port(uint16_t port) const {
    for (uint16_t configured : env_.policy->encap_udp_ports) {
      if (configured == port) return true;
    }
    return false;
  }

  Next udp(size_t off) {
    if (!has(off, 8)) return {Next::kMalformed};
    const uint16_t port = be16(off + 2);
    off += 8;
    if (port == kGenevePort) {
      if (!has(off, 8)) return {Next::kMalformed};
      const size_t len = 8 + static_cast<size_t>(u8(off) & 0x3f) * 4;
      if (!has(off, len)) return {Next::kMalformed};
      const uint16_t protocol = be16(off + 2);
      if (protocol == kEthTeb) return ethernet(off + len);
      if (protocol == kEthIpv6) return {Next::kIpv6, off + len};
      if (protocol == kEthIpv4) return {Next::kIpv4, off + len};
      return {Next::kMalformed};
    }
    if (port == kVxlanPort || encap_port(port)) {
      if (!has(off, 8)) return {Next::kMalformed};
      return ethernet(off + 8);
    }
    return {Next::kEnd};
  }

  // What an IP header's payload protocol leads to (shared by IPv6's chain end and IPv4).
  Next payload(uint8_t protocol, size_t off, bool ipv6) {
    switch (protocol) {
      case 41:
        return {Next::kIpv6, off};
      case 47:
        return gre(off);
      case 17:
        return udp(off);
      case 4:
        // IPv4 in IPv6 is a level (it may carry 41 or GRE on to IPv6: DESIGN, every IPv6 header
        // the datapath can reach); IPv4 in IPv4 (IPIP) ends the walk: outer check only.
        return ipv6 ? Next{Next::kIpv4, off} : Next{Next::kEnd};
      default:
        return {Next::kEnd};
    }
  }

  Next ipv4_level(size_t off) {
    if (!has(off, 20)) return malformed_level();
    const uint8_t version = u8(off) >> 4;
    const size_t header = static_cast<size_t>(u8(off) & 0x0f) * 4;
    const size_t total = be16(off + 2);
    if (version != 4 || header < 20 || total < header || !has(off, total)) {
      return malformed_level();
    }
    const uint16_t fragment_offset = be16(off + 6) & 0x1fff;
    Next next;
    if (fragment_offset == 0) next = payload(u8(off + 9), off + header, false);
    if (next.kind == Next::kMalformed) return malformed_level();
    Level level;  // not judged: IPv4
    levels_.push_back(level);
    return next;
  }

  Next malformed_level() {
    add_malformed();
    return {Next::kEnd};
  }

  Next ipv6_level(size_t off) {
    if (!has(off, 40) || (u8(off) >> 4) != 6) return malformed_level();
    std::copy(p_.begin() + off + 8, p_.begin() + off + 24, last_src_.octets.begin());
    std::copy(p_.begin() + off + 24, p_.begin() + off + 40, last_dst_.octets.begin());
    have_last_ = true;
    const size_t payload_length = be16(off + 4);
    if (payload_length == 0 || !has(off + 40, payload_length)) return malformed_level();

    uint8_t nh = u8(off + 6);
    size_t at = off + 40;
    int headers = 0;
    bool fragment_seen = false;
    bool fragment_more = false;
    size_t fragment_end = 0;
    bool stop = false;  // non-first fragment: nothing after it is read
    while (!stop) {
      const bool extension = nh == 0 || nh == 43 || nh == 44 || nh == 60 || nh == 51 || nh == 135;
      if (!extension) break;
      if (++headers > kMaxExtHeaders) return malformed_level();
      if (nh == 44) {
        if (fragment_seen || !has(at, 8)) return malformed_level();
        fragment_seen = true;
        const uint16_t field = be16(at + 2);
        fragment_more = field & 1;
        nh = u8(at);
        at += 8;
        fragment_end = at;
        if ((field >> 3) != 0) {
          stop = true;
          continue;
        }
        // RFC 7112: a first fragment holds the whole chain; one with nothing after its fragment
        // header (the payload length ends there) and more to come cannot.
        if (fragment_more && fragment_end >= off + 40 + payload_length) return malformed_level();
        continue;
      }
      if (!has(at, 2)) return malformed_level();
      const size_t len = nh == 51 ? (static_cast<size_t>(u8(at + 1)) + 2) * 4
                                  : (static_cast<size_t>(u8(at + 1)) + 1) * 8;
      if (!has(at, len)) return malformed_level();
      nh = u8(at);
      at += len;
    }
    Next next;
    if (!stop) {
      next = payload(nh, at, true);
      if (next.kind == Next::kMalformed) return malformed_level();
    }
    Level level;
    level.ipv6 = true;
    level.have_addresses = true;
    level.src = last_src_;
    level.dst = last_dst_;
    level.reason = rules(level.src, level.dst);
    levels_.push_back(level);
    return next;
  }

  bool is_infra(const Ipv6 &a) const {
    for (const auto &prefix : env_.policy->infra) {
      if (prefix.contains(a)) return true;
    }
    return false;
  }
  const FlycastTarget *flycast(const Ipv6 &a) const {
    const auto it = env_.policy->flycast.find(a);
    return it == env_.policy->flycast.end() ? nullptr : &it->second;
  }
  bool in_machine(const Ipv6 &a) const { return machine_prefix(a) == env_.machine->prefix; }

  uint8_t rules(const Ipv6 &s, const Ipv6 &d) const {
    switch (hook_) {
      case Hook::kEgressXdp:
      case Hook::kEgressTc: {
        if (!env_.machine) return SG_REASON_SPOOFED_SOURCE;
        if (!in_machine(s) && !is_link_local(s) && !is_unspecified(s)) {
          return SG_REASON_SPOOFED_SOURCE;
        }
        if (!is_6pn(d)) return SG_REASON_NOT_6PN;
        if (is_infra(d)) return SG_REASON_INFRA;
        const FlycastTarget *fc = flycast(d);
        if (fc && fc->app_id == env_.machine->app_id) return SG_REASON_FLYCAST;
        if (network_id(d) == env_.machine->network_id) {
          return bug_ == PlantedBug::kEgressSameNetworkIsCross ? SG_REASON_CROSS_NETWORK
                                                               : SG_REASON_SAME_NETWORK;
        }
        return SG_REASON_CROSS_NETWORK;
      }
      case Hook::kIngress: {
        if (!env_.machine) return SG_REASON_NOT_FOR_MACHINE;
        if (!in_machine(d) && !is_link_local(d) && !is_multicast(d)) {
          return SG_REASON_NOT_FOR_MACHINE;
        }
        if (!is_6pn(s)) return SG_REASON_NOT_6PN;
        if (is_infra(s)) return SG_REASON_INFRA;
        const FlycastTarget *fc = flycast(s);
        if (fc && fc->app_id == env_.machine->app_id) return SG_REASON_FLYCAST;
        if (network_id(s) == env_.machine->network_id) return SG_REASON_SAME_NETWORK;
        return SG_REASON_CROSS_NETWORK;
      }
      case Hook::kUplink:
      case Hook::kUplinkL3: {
        if (!is_6pn(s) || !is_6pn(d)) return SG_REASON_NOT_6PN;
        if (is_infra(s) || is_infra(d)) return SG_REASON_INFRA;
        if (network_id(s) == network_id(d)) return SG_REASON_SAME_NETWORK;
        const FlycastTarget *fs = flycast(s);
        if (fs && fs->network_id == network_id(d)) return SG_REASON_FLYCAST;
        const FlycastTarget *fd = flycast(d);
        if (fd && fd->network_id == network_id(s)) return SG_REASON_FLYCAST;
        return SG_REASON_CROSS_NETWORK;
      }
    }
    return SG_REASON_MALFORMED;
  }

  const std::vector<uint8_t> &p_;
  Hook hook_;
  const Env &env_;
  PlantedBug bug_;
  std::vector<Level> levels_;
  bool have_last_ = false;
  Ipv6 last_src_, last_dst_;
};

// The network a dropping level concerns, for audit: the machine's on machine hooks, the level's
// 6PN destination's on the uplink.
std::optional<uint32_t> concerned_network(Hook hook, const Env &env, const Level &level) {
  if (is_machine_hook(hook)) {
    if (!env.machine) return std::nullopt;
    return env.machine->network_id;
  }
  if (level.have_addresses && is_6pn(level.dst)) return network_id(level.dst);
  return std::nullopt;
}

bool enforcing(Hook hook, const Env &env, const Level &level) {
  if (env.policy->global_audit) return false;
  const auto net = concerned_network(hook, env, level);
  return !(net && env.policy->audit_networks.count(*net));
}

}  // namespace

uint8_t hook_id(Hook hook) {
  switch (hook) {
    case Hook::kEgressXdp:
    case Hook::kEgressTc:
      return SG_HOOK_MACHINE_EGRESS;
    case Hook::kIngress:
      return SG_HOOK_MACHINE_INGRESS;
    case Hook::kUplink:
    case Hook::kUplinkL3:
      return SG_HOOK_UPLINK;
  }
  return SG_HOOK_UPLINK;
}

bool has_ethernet(Hook hook) {
  return hook != Hook::kUplinkL3;
}

bool is_machine_hook(Hook hook) {
  return hook_id(hook) != SG_HOOK_UPLINK;
}

const char *hook_name(Hook hook) {
  switch (hook) {
    case Hook::kEgressXdp:
      return "machine_egress(xdp)";
    case Hook::kEgressTc:
      return "machine_egress(tc)";
    case Hook::kIngress:
      return "machine_ingress";
    case Hook::kUplink:
      return "uplink";
    case Hook::kUplinkL3:
      return "uplink(l3)";
  }
  return "?";
}

Answer decide(const std::vector<uint8_t> &packet, Hook hook, const Env &env, uint16_t l3_protocol,
              PlantedBug bug) {
  const std::vector<Level> levels = Walk(packet, hook, env, bug).run(l3_protocol);
  Answer answer;
  answer.hook = hook_id(hook);
  answer.bytes = packet.size();
  int first_drop = 0;
  int first_ipv6 = 0;
  int decided = 0;
  for (size_t i = 0; i < levels.size(); ++i) {
    const Level &level = levels[i];
    const int index = static_cast<int>(i) + 1;
    if (level.ipv6 && !level.malformed && first_ipv6 == 0) first_ipv6 = index;
    if (!level.malformed && !level.ipv6) continue;  // an IPv4 level is not judged
    if (!reason_drops(level.reason)) continue;
    if (enforcing(hook, env, level)) {
      decided = index;
      answer.verdict = SG_VERDICT_DROP;
      break;
    }
    if (first_drop == 0) first_drop = index;
  }
  if (decided == 0 && first_drop != 0) {
    decided = first_drop;
    answer.verdict = SG_VERDICT_AUDIT;
  }
  if (decided == 0 && first_ipv6 != 0) {
    decided = first_ipv6;
    answer.verdict = SG_VERDICT_PASS;
  }
  if (decided != 0) {
    const Level &level = levels[static_cast<size_t>(decided) - 1];
    answer.reason = level.reason;
    answer.deciding_level = decided;
    if (level.have_addresses) {
      answer.src = level.src;
      answer.dst = level.dst;
    }
  } else {
    answer.verdict = SG_VERDICT_PASS;
    answer.reason = SG_REASON_NOT_6PN;  // rule 1: no IPv6 header at all
  }
  answer.slot = SG_COUNTER_INDEX(answer.hook, answer.verdict, answer.reason);
  return answer;
}

std::string verdict_name(uint8_t verdict) {
  static const char *names[] = {"pass", "drop", "audit"};
  return verdict < SG_VERDICT_COUNT ? names[verdict] : "verdict" + std::to_string(verdict);
}

std::string reason_name(uint8_t reason) {
  static const char *names[] = {"not_6pn", "malformed", "spoofed_source", "not_for_machine",
                                "infra",   "flycast",   "same_network",   "cross_network"};
  return reason < SG_REASON_COUNT ? names[reason] : "reason" + std::to_string(reason);
}

std::string slot_name(uint32_t slot) {
  static const char *hooks[] = {"machine_egress", "machine_ingress", "uplink"};
  const uint32_t reason = slot % SG_REASON_COUNT;
  const uint32_t verdict = (slot / SG_REASON_COUNT) % SG_VERDICT_COUNT;
  const uint32_t hook = slot / (uint32_t{SG_REASON_COUNT} * SG_VERDICT_COUNT);
  if (hook >= SG_HOOK_COUNT) return "slot" + std::to_string(slot);
  return std::string(hooks[hook]) + "/" + verdict_name(static_cast<uint8_t>(verdict)) + "/" +
         reason_name(static_cast<uint8_t>(reason));
}

std::string describe(const Answer &answer) {
  std::string out = slot_name(answer.slot) + " bytes " + std::to_string(answer.bytes);
  if (answer.deciding_level != 0) {
    out += " (level " + std::to_string(answer.deciding_level) + " " + answer.src.str() + " -> " +
           answer.dst.str() + ")";
  }
  return out;
}

}  // namespace sixguard::model
