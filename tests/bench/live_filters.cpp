#include "tests/bench/live_filters.h"

#include <bpf/libbpf.h>
#include <linux/if_link.h>

#include <regex>

#include "tests/bench/live_system.h"

namespace sixguard::bench {

std::string_view filter_name(FilterKind kind) {
  switch (kind) {
    case FilterKind::kXdpDrop:
      return "xdp_drop";
    case FilterKind::kXdpReadDrop:
      return "xdp_read_drop";
    case FilterKind::kNftNetdev:
      return "nft_netdev";
    case FilterKind::kNftPrerouting:
      return "nft_prerouting";
    case FilterKind::kTcSixguard:
      return "tc_sixguard";
    case FilterKind::kNone:
      return "none";
    case FilterKind::kSixguardXdp:
      return "sixguard_xdp";
    case FilterKind::kSixguardXdpEventsOff:
      return "sixguard_xdp_events_off";
  }
  return "?";
}

namespace {

class NoFilter : public ReceiveFilter {
 public:
  Result<std::optional<uint64_t>> counted(bool) const override { return std::optional<uint64_t>(); }
};

// The ceilings: an XDP program in native mode, attached directly (nothing else is on the
// device), that drops every frame of the benchmark.
class XdpDropFilter : public ReceiveFilter {
 public:
  static Result<std::unique_ptr<ReceiveFilter>> install(const ReceiverEnv &env, int prog_fd) {
    if (int err = bpf_xdp_attach(env.ifindex, prog_fd, XDP_FLAGS_DRV_MODE, nullptr); err != 0) {
      return make_error("attach XDP (native) to " + env.interface, -err);
    }
    return std::unique_ptr<ReceiveFilter>(new XdpDropFilter(env, prog_fd));
  }
  ~XdpDropFilter() override { bpf_xdp_detach(env_.ifindex, XDP_FLAGS_DRV_MODE, nullptr); }
  Result<std::optional<uint64_t>> counted(bool drop) const override {
    if (!drop) return std::optional<uint64_t>();
    auto stats = ethtool_stats(*env_.ns, env_.interface);
    if (!stats) return stats.error();
    return std::optional<uint64_t>((*stats)["rx_queue_0_xdp_drops"]);
  }
  std::string detail() const override { return "native"; }
  int program_fd() const override { return prog_fd_; }

 private:
  XdpDropFilter(ReceiverEnv env, int prog_fd) : env_(std::move(env)), prog_fd_(prog_fd) {}
  ReceiverEnv env_;
  int prog_fd_;
};

// nftables: one table holding one base chain with the policy as a single rule.
class NftFilter : public ReceiveFilter {
 public:
  static Result<std::unique_ptr<ReceiveFilter>> install(const ReceiverEnv &env, bool netdev) {
    const std::string family = netdev ? "netdev" : "inet";
    const std::string hook = netdev ? "ingress device \"" + env.interface + "\"" : "prerouting";
    // The same policy as sixguard's cross-network drop, as prefix matches: source in the
    // machine's /112, destination 6PN (fdaa::/16) but not on the machine's network (/48).
    const std::string rules =
        "table " + family + " sgh7bench {\n  chain filter {\n    type filter hook " + hook +
        " priority 0; policy accept;\n    ip6 saddr " + env.machine_prefix +
        " ip6 daddr fdaa::/16 ip6 daddr != " + env.machine_network + " counter drop\n  }\n}\n";
    auto loaded = env.ns->exec_ok({"sh", "-c", "printf '%s' \"$0\" | nft -f -", rules});
    if (!loaded) return loaded.error();
    return std::unique_ptr<ReceiveFilter>(new NftFilter(env, family));
  }
  ~NftFilter() override { (void)env_.ns->exec({"nft", "delete", "table", family_, "sgh7bench"}); }
  Result<std::optional<uint64_t>> counted(bool drop) const override {
    if (!drop) return std::optional<uint64_t>();
    auto listed = env_.ns->exec_ok({"nft", "list", "table", family_, "sgh7bench"});
    if (!listed) return listed.error();
    std::smatch match;
    static const std::regex counter("counter packets ([0-9]+)");
    if (!std::regex_search(*listed, match, counter)) {
      return make_error("no counter in nft table " + family_ + " sgh7bench");
    }
    return std::optional<uint64_t>(std::stoull(match[1].str()));
  }
  std::string detail() const override { return family_ == "netdev" ? "ingress" : "prerouting"; }

 private:
  NftFilter(ReceiverEnv env, std::string family)
      : env_(std::move(env)), family_(std::move(family)) {}
  ReceiverEnv env_;
  std::string family_;
};

// sixguard's own counters for one hook.
Result<std::optional<uint64_t>> sixguard_count(const Datapath &datapath, sg_hook hook, bool drop) {
  const uint32_t h = hook;
  const uint32_t verdict = drop ? SG_VERDICT_DROP : SG_VERDICT_PASS;
  const uint32_t reason = drop ? SG_REASON_CROSS_NETWORK : SG_REASON_SAME_NETWORK;
  const uint32_t slot = SG_COUNTER_INDEX(h, verdict, reason);
  auto sum = datapath.maps().counters.read_sum(slot, [](sg_counter a, const sg_counter &b) {
    a.packets += b.packets;
    a.bytes += b.bytes;
    return a;
  });
  if (!sum) return sum.error();
  return std::optional<uint64_t>(sum->packets);
}

class SixguardTcFilter : public ReceiveFilter {
 public:
  static Result<std::unique_ptr<ReceiveFilter>> install(const ReceiverEnv &env) {
    auto attached = env.datapath->attach_uplink(env.ifindex);
    if (!attached) return attached.error();
    attached->set_on_destroy(OnDestroy::kDetach);
    return std::unique_ptr<ReceiveFilter>(new SixguardTcFilter(env, std::move(*attached)));
  }
  Result<std::optional<uint64_t>> counted(bool drop) const override {
    return sixguard_count(*env_.datapath, SG_HOOK_UPLINK, drop);
  }
  std::string detail() const override { return "clsact ingress, sg_uplink"; }
  int program_fd() const override { return env_.datapath->program_fd("sg_uplink"); }

 private:
  SixguardTcFilter(ReceiverEnv env, TcAttachment attachment)
      : env_(std::move(env)), attachment_(std::move(attachment)) {}
  ReceiverEnv env_;
  TcAttachment attachment_;
};

class SixguardXdpFilter : public ReceiveFilter {
 public:
  static Result<std::unique_ptr<ReceiveFilter>> install(const ReceiverEnv &env, bool events) {
    auto config = env.datapath->maps().config.get(0);
    if (!config) return config.error();
    if (!events) {
      sg_config off = *config;
      off.events_per_sec = 0;
      if (auto s = env.datapath->maps().config.set(0, off); !s) return s.error();
    }
    auto attached = env.datapath->attach_machine_egress(env.ifindex);
    if (!attached) {
      (void)env.datapath->maps().config.set(0, *config);
      return attached.error();
    }
    attached->set_on_destroy(OnDestroy::kDetach);
    return std::unique_ptr<ReceiveFilter>(
        new SixguardXdpFilter(env, std::move(*attached), *config));
  }
  ~SixguardXdpFilter() override { (void)env_.datapath->maps().config.set(0, saved_); }
  Result<std::optional<uint64_t>> counted(bool drop) const override {
    return sixguard_count(*env_.datapath, SG_HOOK_MACHINE_EGRESS, drop);
  }
  std::string detail() const override {
    const XdpAttachment *xdp = attachment_.xdp();
    if (xdp == nullptr) return "TC clsact ingress, sg_egress_tc (this kernel has no XDP path)";
    return std::string(xdp_mode_name(xdp->mode())) +
           (xdp->in_dispatcher() ? ", libxdp dispatcher" : ", direct");
  }
  int program_fd() const override {
    return env_.datapath->program_fd(attachment_.xdp() != nullptr ? "sg_machine_egress"
                                                                  : "sg_egress_tc");
  }

 private:
  SixguardXdpFilter(ReceiverEnv env, MachineEgressAttachment attachment, sg_config saved)
      : env_(std::move(env)), attachment_(std::move(attachment)), saved_(saved) {}
  ReceiverEnv env_;
  MachineEgressAttachment attachment_;
  sg_config saved_;  // the configuration to restore (events back on)
};

}  // namespace

Result<std::unique_ptr<ReceiveFilter>> install_filter(FilterKind kind, const ReceiverEnv &env) {
  switch (kind) {
    case FilterKind::kXdpDrop:
      return XdpDropFilter::install(env, env.xdp_drop_fd);
    case FilterKind::kXdpReadDrop:
      return XdpDropFilter::install(env, env.xdp_read_drop_fd);
    case FilterKind::kNftNetdev:
      return NftFilter::install(env, true);
    case FilterKind::kNftPrerouting:
      return NftFilter::install(env, false);
    case FilterKind::kTcSixguard:
      return SixguardTcFilter::install(env);
    case FilterKind::kNone:
      return std::unique_ptr<ReceiveFilter>(new NoFilter());
    case FilterKind::kSixguardXdp:
      return SixguardXdpFilter::install(env, true);
    case FilterKind::kSixguardXdpEventsOff:
      return SixguardXdpFilter::install(env, false);
  }
  return make_error("unknown filter");
}

}  // namespace sixguard::bench
