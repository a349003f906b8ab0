#include "tests/bpf/scenario.h"

#include <string>

namespace sixguard::bpftest {

const Addresses &addrs() {
  static const Addresses instance;
  return instance;
}

sg_config base_config() {
  sg_config config{};
  config.flags = 0;
  config.infra_net_count = 2;
  config.infra_nets[0] = 0;
  config.infra_nets[1] = kNetInfra;
  config.events_per_sec = 1000;
  config.events_burst = 1000;
  return config;
}

namespace {

// flags as the agent derives them: SG_MACHINE_FLYCAST_TARGET when a Flycast address of the
// policy targets the app (M1's and M2's apps; M3's app has none, so M3 exercises the skip).
sg_machine machine(const Ipv6 &address, uint32_t app, uint32_t network, uint32_t flags) {
  sg_machine value{};
  value.prefix = machine_prefix(address).raw();
  value.app_id = app;
  value.network_id = network;
  value.flags = flags;
  return value;
}

}  // namespace

Result<std::unique_ptr<Host>> Host::create(const MapSizes &sizes) {
  auto ns = test::NetNs::create("sg-h1-bpf-");
  if (!ns) return ns.error();
  // veth pairs (this kernel may lack the dummy driver); only the first end is used.
  for (const std::string name : {"sgm1", "sgm2", "sgm3", "sgunk", "sgup"}) {
    if (auto added = ns->ip({"link", "add", name, "type", "veth", "peer", "name", name + "p"});
        !added) {
      return added.error();
    }
    if (auto up = ns->ip({"link", "set", name, "up"}); !up) return up.error();
  }
  auto datapath = Datapath::load(sizes);
  if (!datapath) return datapath.error();
  std::unique_ptr<Host> host(new Host(std::move(*ns), std::move(*datapath)));
  const std::pair<const char *, uint32_t *> interfaces[] = {{"sgm1", &host->if_m1},
                                                            {"sgm2", &host->if_m2},
                                                            {"sgm3", &host->if_m3},
                                                            {"sgunk", &host->if_unknown},
                                                            {"sgup", &host->if_uplink}};
  for (const auto &[name, out] : interfaces) {
    auto index = host->ns_.ifindex(name);
    if (!index) return index.error();
    *out = static_cast<uint32_t>(*index);
  }
  // An L3 device like WireGuard (tun: no Ethernet header) with sg_uplink_l3 on TC ingress.
  auto l3 = InjectDevice::create(host->ns_, "sgtun", InjectDevice::Framing::kL3,
                                 host->datapath_->program_fd(Program::kUplinkL3));
  if (!l3) return l3.error();
  host->l3_ = std::move(*l3);
  host->if_tun = host->l3_->ifindex();
  // No machine entry of its own: a test gives it the one of the interface a row names.
  auto tap = InjectDevice::create(host->ns_, "sgtap", InjectDevice::Framing::kEthernet,
                                  host->datapath_->program_fd(Program::kMachineEgressTc));
  if (!tap) return tap.error();
  host->tap_ = std::move(*tap);
  host->if_tap = host->tap_->ifindex();
  if (auto status = host->reset_policy(base_config()); !status) return status.error();
  return host;
}

Status Host::reset_policy(const sg_config &config) {
  const auto &a = addrs();
  Datapath &dp = *datapath_;
  if (auto s = dp.clear_policy(); !s) return s;
  constexpr uint32_t kTarget = SG_MACHINE_FLYCAST_TARGET;
  if (auto s = dp.put_machine(if_m1, machine(a.m1, kAppM1, kNetA, kTarget)); !s) return s;
  if (auto s = dp.put_machine(if_m2, machine(a.m2, kAppM2, kNetB, kTarget)); !s) return s;
  if (auto s = dp.put_machine(if_m3, machine(a.m3, kAppM3, kNetB, 0)); !s) return s;
  if (auto s = dp.put_infra(Ipv6Prefix{a.dns, 128}); !s) return s;
  if (auto s = dp.put_infra(Ipv6Prefix{addr("fdaa:7:7::"), 48}); !s) return s;
  if (auto s = dp.put_flycast(a.fc_into_a, sg_flycast{kAppM2, kNetB}); !s) return s;
  if (auto s = dp.put_flycast(a.fc_to_m1, sg_flycast{kAppM1, kNetA}); !s) return s;
  if (auto s = dp.put_flycast(a.fc_b, sg_flycast{kAppM2, kNetB}); !s) return s;
  if (auto s = dp.reset_ratelimit(); !s) return s;
  return dp.write_config(config);
}

}  // namespace sixguard::bpftest
