#include "tests/model/differential.h"

#include <bpf/bpf.h>
#include <bpf/libbpf.h>
#include <linux/bpf.h>

#include <algorithm>
#include <chrono>
#include <cstring>
#include <cstdio>
#include <map>
#include <sstream>
#include <tuple>

#include "tests/model/frame_gen.h"
#include "tests/model/fuzz_env.h"
#include "tests/bpf/inject_device.h"
#include "tests/model/packet_socket.h"
#include "tests/bpf/verdict_table.h"
#include "tests/model/vnet_tap.h"

namespace sixguard::model {

namespace {

using bpftest::Counters;
using bpftest::Datapath;
using bpftest::Host;
using bpftest::Program;

// Frames longer than this reach the TC programs non-linear too (tun puts a frame shorter than a
// page in the head whatever the virtio header says).
constexpr size_t kPagedMin = 4096;

// The longest frame handed to the skb test run (it refuses more than a page less its head and
// tail room); longer ones reach the TC programs through the tap and the tun.
constexpr size_t kSkbRunMax = 3500;

// A frame the receiving stack frees before TC ingress runs: an outer VLAN tag it cannot move out
// of the data (skb_vlan_untag needs the tag and the next ethertype). No program sees it.
bool stack_drops_before_tc(const std::vector<uint8_t> &frame) {
  const uint16_t type = static_cast<uint16_t>(frame[12] << 8 | frame[13]);
  return (type == 0x8100 || type == 0x88a8) && frame.size() < 14 + 6;
}

uint64_t mix(uint64_t x) {
  x += 0x9e3779b97f4a7c15ull;
  x = (x ^ (x >> 30)) * 0xbf58476d1ce4e5b9ull;
  x = (x ^ (x >> 27)) * 0x94d049bb133111ebull;
  return x ^ (x >> 31);
}

// Reads one slot of sg_counters, summed over CPUs.
class SlotReader {
 public:
  explicit SlotReader(const Datapath &dp)
      : fd_(bpf_map__fd(bpf_object__find_map_by_name(dp.object(), SG_MAP_COUNTERS))),
        values_(static_cast<size_t>(std::max(libbpf_num_possible_cpus(), 1))) {}

  Result<sg_counter> read(uint32_t slot) {
    if (bpf_map_lookup_elem(fd_, &slot, values_.data()) != 0) return errno_error("read slot");
    sg_counter sum{};
    for (const auto &v : values_) {
      sum.packets += v.packets;
      sum.bytes += v.bytes;
    }
    return sum;
  }

 private:
  int fd_;
  std::vector<sg_counter> values_;
};

// The drop-event ring, kept open: consumed after every run (an empty ring costs a read of two
// positions), so each run's events are its own.
class EventReader {
 public:
  explicit EventReader(const Datapath &dp)
      : ring_(ring_buffer__new(dp.events_fd(), &EventReader::on_record, this, nullptr)) {}
  ~EventReader() {
    if (ring_) ring_buffer__free(ring_);
  }
  EventReader(const EventReader &) = delete;
  EventReader &operator=(const EventReader &) = delete;

  bool ok() const { return ring_ != nullptr; }
  Result<std::vector<sg_drop_event>> take() {
    events_.clear();
    const int consumed = ring_buffer__consume(ring_);
    if (consumed < 0) return make_error("consume sg_events", -consumed);
    return std::move(events_);
  }

 private:
  static int on_record(void *self, void *data, size_t size) {
    sg_drop_event event{};
    std::memcpy(&event, data, std::min(size, sizeof(event)));
    static_cast<EventReader *>(self)->events_.push_back(event);
    return 0;
  }
  ring_buffer *ring_;
  std::vector<sg_drop_event> events_;
};

// What the program said, as far as it can be seen: the return code (not for injected packets)
// and the counter slot that moved (none for sg_explain, whose return code carries both).
struct Observed {
  bool have_retval = false;
  uint32_t retval = 0;
  std::vector<std::pair<uint32_t, sg_counter>> moved;  // slot, delta
};

// The kind of an observation, for tallies: where it counted, without the numbers.
std::string kind_of(const Observed &o) {
  std::string out;
  for (const auto &[slot, delta] : o.moved) out += (out.empty() ? "" : "+") + slot_name(slot);
  if (o.moved.empty()) out = "nothing counted";
  return out;
}

std::string describe_observed(const Observed &o) {
  std::string out;
  if (o.have_retval) out += "retval " + std::to_string(static_cast<int32_t>(o.retval)) + ", ";
  if (o.moved.empty()) out += "no counter moved";
  for (const auto &[slot, delta] : o.moved) {
    out += "slot " + slot_name(slot) + " +" + std::to_string(delta.packets) + " packets +" +
           std::to_string(delta.bytes) + " bytes; ";
  }
  return out;
}

class Runner {
 public:
  Runner(Host &host, const FuzzOptions &options)
      : host_(host), dp_(host.datapath()), options_(options), slots_(dp_), events_(dp_) {}

  Result<FuzzStats> run() {
    if (!events_.ok()) return errno_error("ring_buffer__new sg_events");
    // The Ethernet uplink's TC program on a tap of its own (the scenario host has one for
    // sg_egress_tc only).
    auto tap = bpftest::InjectDevice::create(host_.ns(), "sgfzup",
                                             bpftest::InjectDevice::Framing::kEthernet,
                                             dp_.program_fd(Program::kUplink));
    if (!tap) return tap.error();
    uplink_tap_ = std::move(*tap);
    auto egress_paged =
        VnetTap::create(host_.ns(), "sgfzpe", dp_.program_fd(Program::kMachineEgressTc));
    if (!egress_paged) return egress_paged.error();
    egress_paged_ = std::move(*egress_paged);
    auto uplink_paged = VnetTap::create(host_.ns(), "sgfzpu", dp_.program_fd(Program::kUplink));
    if (!uplink_paged) return uplink_paged.error();
    uplink_paged_ = std::move(*uplink_paged);
    auto sender =
        EgressSender::create(host_.ns(), "sgfzin", dp_.program_fd(Program::kMachineIngress));
    if (!sender) return sender.error();
    ingress_sender_ = std::move(*sender);
    auto base = dp_.counters();  // what earlier runs in this process counted
    if (!base) return base.error();
    expected_ = *base;
    const auto start = std::chrono::steady_clock::now();
    const uint64_t end = options_.first + options_.frames;
    uint64_t window_start = options_.first;
    for (uint64_t i = options_.first; i < end; ++i) {
      if (auto s = frame(i); !s) return s.error();
      ++stats_.frames;
      if ((i + 1 - options_.first) % options_.full_check_every == 0 || i + 1 == end) {
        if (auto s = full_check(window_start, i + 1); !s) return s.error();
        window_start = i + 1;
      }
    }
    stats_.seconds =
        std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
    return stats_;
  }

 private:
  // Writes policy number `index` into the maps (the scenario's machines on m1..m3). Counters are
  // left alone: the expectation runs on across policies.
  Status apply_policy(size_t index) {
    const Policy &policy = fuzz_policies()[index].policy;
    if (auto s = dp_.clear_policy(); !s) return s;
    policy_index_ = index;  // to_map reads it
    const std::pair<Iface, uint32_t> machines[] = {
        {Iface::kM1, host_.if_m1}, {Iface::kM2, host_.if_m2}, {Iface::kM3, host_.if_m3}};
    for (const auto &[iface, ifindex] : machines) {
      if (auto s = dp_.put_machine(ifindex, to_map(*machine_of(iface))); !s) return s;
    }
    for (const auto &[address, target] : policy.flycast) {
      if (auto s = dp_.put_flycast(address, sg_flycast{target.app_id, target.network_id}); !s) {
        return s;
      }
    }
    for (const auto &prefix : policy.infra) {
      if (auto s = dp_.put_infra(prefix); !s) return s;
    }
    for (uint32_t network : policy.audit_networks) {
      if (auto s = dp_.put_net_flags(network, SG_NET_AUDIT); !s) return s;
    }
    // Events on, with a bucket no test run can empty: every drop and audit must send one.
    sg_config config = config_for(policy);
    config.events_per_sec = 100000000;
    config.events_burst = 100000000;
    if (auto s = dp_.write_config(config); !s) return s;
    if (auto s = dp_.reset_ratelimit(); !s) return s;
    policy_index_ = index;
    tap_iface_.reset();
    paged_iface_.reset();
    sender_iface_.reset();
    return {};
  }

  // The entry the agent writes under the current policy: SG_MACHINE_FLYCAST_TARGET when a
  // Flycast address targets the machine's app. Odd policies set it on every machine: a
  // superset only costs lookups, and the model (which has no such flag) must still agree.
  sg_machine to_map(const Machine &m) const {
    sg_machine value{};
    value.prefix = m.prefix.raw();
    value.app_id = m.app_id;
    value.network_id = m.network_id;
    bool target = policy_index_ % 2 == 1;
    for (const auto &[address, flycast] : fuzz_policies()[policy_index_].policy.flycast) {
      if (flycast.app_id == m.app_id) target = true;
    }
    value.flags = target ? SG_MACHINE_FLYCAST_TARGET : 0;
    return value;
  }

  uint32_t ifindex_of(Iface iface) const {
    switch (iface) {
      case Iface::kM1:
        return host_.if_m1;
      case Iface::kM2:
        return host_.if_m2;
      case Iface::kM3:
        return host_.if_m3;
      case Iface::kUnknown:
        return host_.if_unknown;
    }
    return 0;
  }

  // A tap running sg_egress_tc stands in for the frame's interface: same machine entry.
  Status point_tap_at(uint32_t tap, Iface iface, std::optional<Iface> &pointed) {
    if (pointed == iface) return {};
    const auto machine = machine_of(iface);
    if (machine) {
      if (auto s = dp_.put_machine(tap, to_map(*machine)); !s) return s;
    } else if (auto s = dp_.delete_machine(tap); !s) {
      return s;
    }
    pointed = iface;
    return {};
  }

  Status frame(uint64_t i) {
    const size_t policy = options_.given_frame ? options_.given_policy % fuzz_policies().size()
                                               : (i / kPolicyBlock) % fuzz_policies().size();
    if (policy != policy_index_) {
      if (auto s = apply_policy(policy); !s) return s;
    }
    if (options_.plant_count_before_frame != 0 && i == options_.plant_count_before_frame &&
        !every_slot_) {
      if (auto s = count_behind_the_runs(); !s) return s;
    }
    const Policy &p = fuzz_policies()[policy].policy;
    const Iface iface = static_cast<Iface>(
        options_.given_frame ? options_.given_iface % kIfaceCount
                             : static_cast<int>(mix(options_.seed * 31 + i) % kIfaceCount));
    GeneratorInput input;
    input.pool = address_pool();
    input.machine = machine_of(iface);
    input.udp_ports = extra_udp_ports();
    const Frame f = options_.given_frame ? given_frame(*options_.given_frame)
                                         : generate_frame(input, options_.seed, i);
    // The skb test run refuses frames with a cut IPv6/IPv4 header and frames longer than its
    // page; a machine can still send either (the tap), and XDP takes long ones multi-buffer.
    const bool refused = bpftest::skb_test_run_refuses(f.bytes) || f.bytes.size() > kSkbRunMax;
    const Env machine_env{&p, machine_of(iface)};
    const Env uplink_env{&p, std::nullopt};
    const uint32_t ifindex = ifindex_of(iface);
    Context ctx{i, iface, policy, f};

    if (dp_.xdp_egress_loaded()) {
      if (auto s = counted(ctx, Target::kEgressXdp, Program::kMachineEgress, f.bytes, ifindex,
                           decide(f.bytes, Hook::kEgressXdp, machine_env, 0, options_.bug));
          !s) {
        return s;
      }
    } else {
      ++stats_.skipped[static_cast<int>(Target::kEgressXdp)];
    }
    const Answer egress = decide(f.bytes, Hook::kEgressTc, machine_env, 0, options_.bug);
    if (!refused) {
      if (auto s =
              counted(ctx, Target::kEgressTc, Program::kMachineEgressTc, f.bytes, ifindex, egress);
          !s) {
        return s;
      }
    } else {
      ++stats_.skipped[static_cast<int>(Target::kEgressTc)];
    }
    // A real device: the skb the stack builds (the outer VLAN tag moved out of the data, a
    // frame the test run refuses), as the agent's TC programs meet it.
    if (stack_drops_before_tc(f.bytes)) {
      ++stats_.skipped[static_cast<int>(Target::kEgressTcTap)];
      ++stats_.skipped[static_cast<int>(Target::kUplinkTap)];
      ++stats_.skipped[static_cast<int>(Target::kIngressSent)];
    } else if (refused || i % options_.device_every == 0 || options_.given_frame) {
      if (auto s = point_tap_at(host_.if_tap, iface, tap_iface_); !s) return s;
      if (auto s = injected(ctx, Target::kEgressTcTap, host_.egress_tap(), f.bytes, 0, egress);
          !s) {
        return s;
      }
      if (auto s = injected(ctx, Target::kUplinkTap, *uplink_tap_, f.bytes, 0,
                            decide(f.bytes, Hook::kUplink, uplink_env, 0, options_.bug));
          !s) {
        return s;
      }
      if (auto s = point_tap_at(ingress_sender_->ifindex(), iface, sender_iface_); !s) return s;
      if (auto s =
              sent(ctx, f.bytes, decide(f.bytes, Hook::kIngress, machine_env, 0, options_.bug));
          !s) {
        return s;
      }
    } else {
      ++stats_.skipped[static_cast<int>(Target::kEgressTcTap)];
      ++stats_.skipped[static_cast<int>(Target::kUplinkTap)];
      ++stats_.skipped[static_cast<int>(Target::kIngressSent)];
    }
    // Ingress and the Ethernet uplink get their frames from the kernel's own stack or a NIC:
    // the frames the skb test run refuses are the ones they are never handed whole, and the
    // tests have no device that would deliver them; they are counted as skipped.
    if (!refused) {
      if (auto s = counted(ctx, Target::kIngress, Program::kMachineIngress, f.bytes, ifindex,
                           decide(f.bytes, Hook::kIngress, machine_env, 0, options_.bug));
          !s) {
        return s;
      }
      if (auto s = counted(ctx, Target::kUplink, Program::kUplink, f.bytes, host_.if_uplink,
                           decide(f.bytes, Hook::kUplink, uplink_env, 0, options_.bug));
          !s) {
        return s;
      }
    } else {
      ++stats_.skipped[static_cast<int>(Target::kIngress)];
      ++stats_.skipped[static_cast<int>(Target::kUplink)];
    }
    // Longer than a page: a tap that leaves all but `head` bytes in page fragments.
    if (f.bytes.size() > kPagedMin) {
      const uint16_t head = static_cast<uint16_t>(14 + mix(options_.seed ^ i) % 64);
      if (auto s = point_tap_at(egress_paged_->ifindex(), iface, paged_iface_); !s) return s;
      if (auto s = paged(ctx, Target::kEgressTcPaged, *egress_paged_, f.bytes, head, egress); !s) {
        return s;
      }
      if (auto s = paged(ctx, Target::kUplinkPaged, *uplink_paged_, f.bytes, head,
                         decide(f.bytes, Hook::kUplink, uplink_env, 0, options_.bug));
          !s) {
        return s;
      }
    } else {
      ++stats_.skipped[static_cast<int>(Target::kEgressTcPaged)];
      ++stats_.skipped[static_cast<int>(Target::kUplinkPaged)];
    }
    const std::vector<uint8_t> l3 = f.l3_packet();
    if (!l3.empty()) {
      if (auto s = injected(ctx, Target::kUplinkL3, host_.l3_uplink(), l3, f.l3_protocol,
                            decide(l3, Hook::kUplinkL3, uplink_env, f.l3_protocol, options_.bug));
          !s) {
        return s;
      }
    } else {
      ++stats_.skipped[static_cast<int>(Target::kUplinkL3)];
    }
    if (!refused) {
      // sg_explain answers for one hook per frame, in turn (the hooks are checked above).
      const Hook hooks[] = {Hook::kEgressTc, Hook::kIngress, Hook::kUplink};
      const Hook hook = hooks[i % 3];
      const Env &env = is_machine_hook(hook) ? machine_env : uplink_env;
      if (auto s = explain(ctx, hook, ifindex, decide(f.bytes, hook, env, 0, options_.bug)); !s) {
        return s;
      }
    } else {
      ++stats_.skipped[static_cast<int>(Target::kExplain)];
    }
    return {};
  }

  // A frame from --hex; the L3 uplink gets what follows its Ethernet header and tags.
  static Frame given_frame(const std::vector<uint8_t> &bytes) {
    Frame f;
    f.bytes = bytes;
    f.shape = "given";
    size_t at = 12;
    while (at + 2 <= bytes.size()) {
      f.l3_protocol = static_cast<uint16_t>(bytes[at] << 8 | bytes[at + 1]);
      if (f.l3_protocol != 0x8100 && f.l3_protocol != 0x88a8) break;
      at += 4;
    }
    f.l3_offset = at + 2;
    return f;
  }

  Status count_behind_the_runs() {
    const int fd = bpf_map__fd(bpf_object__find_map_by_name(dp_.object(), SG_MAP_COUNTERS));
    std::vector<sg_counter> values(static_cast<size_t>(std::max(libbpf_num_possible_cpus(), 1)));
    const uint32_t slot = SG_COUNTER_INDEX(SG_HOOK_UPLINK, SG_VERDICT_DROP, SG_REASON_INFRA);
    if (bpf_map_lookup_elem(fd, &slot, values.data()) != 0) return errno_error("read slot");
    values[0].packets += 1;
    if (bpf_map_update_elem(fd, &slot, values.data(), BPF_ANY) != 0) {
      return errno_error("write slot");
    }
    return {};
  }

  struct Context {
    uint64_t index;
    Iface iface;
    size_t policy;
    const Frame &frame;
  };

  Status counted(const Context &ctx, Target target, Program program,
                 const std::vector<uint8_t> &packet, uint32_t ifindex, const Answer &want) {
    auto run = dp_.run(program, packet, ifindex);
    if (!run) return run.error();
    Observed seen;
    seen.have_retval = true;
    seen.retval = run->retval;
    const bool retval_ok =
        run->retval == bpftest::expected_action(program, static_cast<sg_verdict>(want.verdict));
    return check_counter(ctx, target, packet, want, seen, retval_ok, ifindex);
  }

  Status injected(const Context &ctx, Target target, const bpftest::InjectDevice &device,
                  const std::vector<uint8_t> &packet, uint16_t protocol, const Answer &want) {
    if (auto s = device.inject(packet, protocol); !s) return s;
    Observed seen;  // the return code is not visible: the slot's verdict stands for it
    return check_counter(ctx, target, packet, want, seen, true, device.ifindex());
  }

  Status sent(const Context &ctx, const std::vector<uint8_t> &frame, const Answer &want) {
    auto dropped = ingress_sender_->send(frame);
    if (!dropped) return dropped.error();
    Observed seen;
    seen.have_retval = true;  // what the transmit path says: dropped (TC_ACT_SHOT) or sent
    seen.retval = *dropped ? 1 : 0;
    const bool verdict_ok = *dropped == (want.verdict == SG_VERDICT_DROP);
    return check_counter(ctx, Target::kIngressSent, frame, want, seen, verdict_ok,
                         ingress_sender_->ifindex());
  }

  Status paged(const Context &ctx, Target target, const VnetTap &device,
               const std::vector<uint8_t> &frame, uint16_t head, const Answer &want) {
    if (auto s = device.inject(frame, head); !s) return s;
    Observed seen;
    return check_counter(ctx, target, frame, want, seen, true, device.ifindex());
  }

  // The slots whose totals in `all` differ from the expected ones.
  std::vector<uint32_t> moved_slots(const Counters &all) const {
    std::vector<uint32_t> moved;
    for (uint32_t slot = 0; slot < SG_COUNTER_SLOTS; ++slot) {
      if (all[slot].packets != expected_[slot].packets ||
          all[slot].bytes != expected_[slot].bytes) {
        moved.push_back(slot);
      }
    }
    return moved;
  }

  Status check_counter(const Context &ctx, Target target, const std::vector<uint8_t> &packet,
                       const Answer &want, Observed &seen, bool retval_ok, uint32_t ifindex) {
    ++stats_.runs[static_cast<int>(target)];
    ++stats_.model_slots[want.slot];
    if (auto s = check_events(ctx, target, packet, want, ifindex); !s) return s;
    auto now = slots_.read(want.slot);
    if (!now) return now.error();
    sg_counter &expect = expected_[want.slot];
    const bool slot_ok =
        now->packets == expect.packets + 1 && now->bytes == expect.bytes + want.bytes;
    if (slot_ok && retval_ok) {
      expect = *now;
      if (!every_slot_) return {};
      // Replaying a window after a drift: the other slots must not have moved either.
      auto all = dp_.counters();
      if (!all) return all.error();
      if (moved_slots(*all).empty()) return {};
    }
    // Name every slot that moved, then take the kernel's counters as the new expectation.
    auto all = dp_.counters();
    if (!all) return all.error();
    for (uint32_t slot : moved_slots(*all)) {
      const auto &a = (*all)[slot];
      const auto &e = expected_[slot];
      seen.moved.push_back({slot, sg_counter{a.packets - e.packets, a.bytes - e.bytes}});
    }
    expected_ = *all;
    const bool bytes_only = seen.moved.size() == 1 && seen.moved[0].first == want.slot &&
                            seen.moved[0].second.packets == 1;
    std::string kind = kind_of(seen);
    if (bytes_only) kind += " (bytes differ)";
    if (!retval_ok) kind += " retval " + std::to_string(static_cast<int32_t>(seen.retval));
    disagree(ctx, target, packet, want, describe_observed(seen), kind);
    return {};
  }

  // A drop or an audit sends exactly one event naming the deciding level's addresses; a pass
  // sends none (DESIGN §2: counters and drop events report the level that decided).
  Status check_events(const Context &ctx, Target target, const std::vector<uint8_t> &packet,
                      const Answer &want, uint32_t ifindex) {
    auto events = events_.take();
    if (!events) return events.error();
    std::string wrong;
    if (want.verdict == SG_VERDICT_PASS) {
      if (!events->empty()) wrong = std::to_string(events->size()) + " event(s) for a pass";
    } else if (events->size() != 1) {
      wrong = std::to_string(events->size()) + " events for a " + verdict_name(want.verdict);
    } else {
      const sg_drop_event &e = events->front();
      const Ipv6 src = Ipv6::from(e.src), dst = Ipv6::from(e.dst);
      if (e.hook != want.hook || e.verdict != want.verdict || e.reason != want.reason) {
        wrong = "event says " + slot_name(SG_COUNTER_INDEX(uint32_t{e.hook}, uint32_t{e.verdict},
                                                           uint32_t{e.reason}));
      } else if (src != want.src || dst != want.dst) {
        wrong = "event addresses " + src.str() + " -> " + dst.str();
      } else if (e.packet_len != want.bytes || e.ifindex != ifindex) {
        wrong = "event packet_len " + std::to_string(e.packet_len) + " ifindex " +
                std::to_string(e.ifindex) + " (expected " + std::to_string(ifindex) + ")";
      }
    }
    if (wrong.empty()) return {};
    const std::string kind = wrong.find("addresses") != std::string::npos ? "event addresses"
                             : wrong.find("packet_len") != std::string::npos
                                 ? "event packet_len/ifindex"
                                 : wrong;
    disagree(ctx, target, packet, want, wrong, kind);
    return {};
  }

  Status explain(const Context &ctx, Hook hook, uint32_t ifindex, const Answer &want) {
    const std::array<uint32_t, 2> cb = {hook_id(hook), is_machine_hook(hook) ? ifindex : 0};
    auto run = dp_.run(Program::kExplain, ctx.frame.bytes, 0, 1, cb);
    if (!run) return run.error();
    ++stats_.runs[static_cast<int>(Target::kExplain)];
    auto events = events_.take();
    if (!events) return events.error();
    if (!events->empty()) {
      disagree(ctx, Target::kExplain, ctx.frame.bytes, want, "explain sent an event",
               "explain sent an event");
    }
    const uint32_t verdict = SG_EXPLAIN_VERDICT(run->retval);
    const uint32_t reason = SG_EXPLAIN_REASON(run->retval);
    if (verdict == want.verdict && reason == want.reason) return {};
    const std::string said = std::string("explain for ") + hook_name(hook) + ": " +
                             verdict_name(static_cast<uint8_t>(verdict)) + "/" +
                             reason_name(static_cast<uint8_t>(reason));
    disagree(ctx, Target::kExplain, ctx.frame.bytes, want,
             said + " (retval " + std::to_string(static_cast<int32_t>(run->retval)) + ")", said);
    return {};
  }

  // Every slot against the expected totals: a program that counted a packet twice, or counted
  // where none should (sg_explain), shows here. The window is then replayed with full reads.
  Status full_check(uint64_t from, uint64_t to) {
    auto all = dp_.counters();
    if (!all) return all.error();
    const std::vector<uint32_t> moved = moved_slots(*all);
    if (moved.empty()) return {};
    ++stats_.disagreements;
    std::ostringstream report;
    report << "COUNTER DRIFT seed=" << options_.seed << " frames [" << from << ", " << to
           << "): the slots' totals differ from one count per run:\n";
    for (uint32_t slot : moved) {
      const auto &a = (*all)[slot];
      const auto &e = expected_[slot];
      report << "  " << slot_name(slot) << ": " << a.packets << " packets (expected " << e.packets
             << "), " << a.bytes << " bytes (expected " << e.bytes << ")\n";
    }
    report << "  replay: --seed " << options_.seed << " --first " << from << " --frames "
           << to - from << "\n";
    keep(report.str());
    expected_ = *all;
    if (every_slot_) return {};
    // Name the run: the window again, every slot read after every run.
    every_slot_ = true;
    for (uint64_t j = from; j < to; ++j) {
      if (auto s = frame(j); !s) {
        every_slot_ = false;
        return s;
      }
    }
    every_slot_ = false;
    return {};
  }

  void disagree(const Context &ctx, Target target, const std::vector<uint8_t> &packet,
                const Answer &want, const std::string &got, const std::string &kind) {
    ++stats_.disagreements;
    // Only the first of each kind in full: one reproducer per distinct difference.
    if (++stats_.kinds[std::string(target_name(target)) + ": model " + slot_name(want.slot) +
                       " / bpf " + kind] > 1) {
      return;
    }
    if (stats_.reports.size() >= options_.max_reports) return;
    std::ostringstream report;
    report << "DISAGREEMENT seed=" << options_.seed << " frame=" << ctx.index << " program "
           << target_name(target) << " interface " << iface_name(ctx.iface) << " policy "
           << fuzz_policies()[ctx.policy].name << "\n"
           << "  shape:  " << ctx.frame.shape << "\n"
           << "  packet: " << hex(packet) << "\n";
    if (target == Target::kUplinkL3)
      report << "  l3 protocol: 0x" << std::hex << ctx.frame.l3_protocol << std::dec << "\n";
    report << "  model:  " << describe(want) << "\n"
           << "  bpf:    " << got << "\n"
           << "  env:    " << describe(fuzz_policies()[ctx.policy].policy) << "\n"
           << "  replay: --seed " << options_.seed << " --first " << ctx.index << " --frames 1\n";
    keep(report.str());
  }

  void keep(const std::string &report) {
    if (stats_.reports.size() < options_.max_reports) {
      stats_.reports.push_back(report);
      options_.log(report);
    }
  }

  Host &host_;
  Datapath &dp_;
  const FuzzOptions &options_;
  SlotReader slots_;
  EventReader events_;
  std::unique_ptr<bpftest::InjectDevice> uplink_tap_;
  bool every_slot_ = false;  // replaying a window: every slot checked after every run
  Counters expected_{};
  size_t policy_index_ = SIZE_MAX;
  std::optional<Iface> tap_iface_;
  std::optional<Iface> paged_iface_;
  std::optional<Iface> sender_iface_;
  std::unique_ptr<EgressSender> ingress_sender_;
  std::unique_ptr<VnetTap> egress_paged_;
  std::unique_ptr<VnetTap> uplink_paged_;
  FuzzStats stats_;
};

}  // namespace

const char *target_name(Target target) {
  switch (target) {
    case Target::kEgressXdp:
      return "sg_machine_egress(xdp)";
    case Target::kEgressTc:
      return "sg_egress_tc";
    case Target::kEgressTcTap:
      return "sg_egress_tc(tap)";
    case Target::kUplinkTap:
      return "sg_uplink(tap)";
    case Target::kIngressSent:
      return "sg_machine_ingress(sent)";
    case Target::kEgressTcPaged:
      return "sg_egress_tc(paged)";
    case Target::kUplinkPaged:
      return "sg_uplink(paged)";
    case Target::kIngress:
      return "sg_machine_ingress";
    case Target::kUplink:
      return "sg_uplink";
    case Target::kUplinkL3:
      return "sg_uplink_l3(tun)";
    case Target::kExplain:
      return "sg_explain";
  }
  return "?";
}

Result<FuzzStats> run_differential(Host &host, const FuzzOptions &options) {
  auto result = host.ns().run([&] { return Runner(host, options).run(); });
  if (!result) return result.error();
  return std::move(*result);
}

std::string summarize(const FuzzStats &stats) {
  std::ostringstream out;
  out << stats.frames << " frames in " << stats.seconds << " s ("
      << (stats.seconds > 0 ? static_cast<uint64_t>(stats.frames / stats.seconds) : 0)
      << " frames/s, each through every program), " << stats.disagreements << " disagreement(s)\n";
  for (int t = 0; t < kTargetCount; ++t) {
    out << "  " << target_name(static_cast<Target>(t)) << ": " << stats.runs[t] << " runs, "
        << stats.skipped[t] << " skipped\n";
  }
  if (!stats.kinds.empty()) {
    out << "  disagreements by kind:\n";
    for (const auto &[kind, count] : stats.kinds) out << "    " << count << "  " << kind << "\n";
  }
  out << "  model answers per slot (all counted runs):\n";
  for (uint32_t slot = 0; slot < SG_COUNTER_SLOTS; ++slot) {
    if (stats.model_slots[slot]) {
      out << "    " << slot_name(slot) << ": " << stats.model_slots[slot] << "\n";
    }
  }
  return out.str();
}

}  // namespace sixguard::model
