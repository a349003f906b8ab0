// The receive-side configurations the live benchmark compares on the receiving veth, each the
// same policy ("drop IPv6 from the machine's /112 to another network") or a reference point:
//
//   xdp_drop        a trivial XDP_DROP program (native): the ceiling
//   xdp_read_drop   XDP that reads the headers, compares the network words and drops: the
//                   ceiling of any filter that must look at the packet (diagnostic)
//   nft_netdev      nftables, netdev family, ingress hook of the device
//   nft_prerouting  nftables, inet family, prerouting hook
//   tc_sixguard     sixguard's uplink program on TC (clsact) ingress: the policy on an skb
//   none            no filter: the stack receives every frame (and drops it at routing)
//   sixguard_xdp    sixguard's machine_egress, attached as the agent attaches it (libxdp)
//   sixguard_xdp_events_off  the same with drop events off (sg_config.events_per_sec = 0):
//                   shows what the drop-event rate limiter costs (diagnostic)
//
// A filter is installed on construction and removed on destruction. Both act in the network
// namespace of the calling thread for the BPF attachments (ifindex is namespace-bound), so a
// filter must be created and destroyed on a thread that joined the receiver's namespace.
#pragma once

#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <string_view>

#include "agent/datapath/datapath.h"
#include "tests/common/netns.h"
#include "agent/core/result.h"

namespace sixguard::bench {

enum class FilterKind {
  kXdpDrop,
  kXdpReadDrop,
  kNftNetdev,
  kNftPrerouting,
  kTcSixguard,
  kNone,
  kSixguardXdp,
  kSixguardXdpEventsOff,
};
std::string_view filter_name(FilterKind kind);

// What every filter needs to know about the receiver.
struct ReceiverEnv {
  const test::NetNs *ns = nullptr;
  std::string interface;
  int ifindex = 0;
  Datapath *datapath = nullptr;  // sixguard, with the policy written
  int xdp_drop_fd = -1;          // bench_baseline's bench_xdp_drop
  int xdp_read_drop_fd = -1;     // bench_live's bench_live_read_drop
  std::string machine_prefix;    // "fdaa:2:45b:a7b:174:db43:d3c6:0/112"
  std::string machine_network;   // "fdaa:2:45b::/48"
};

class ReceiveFilter {
 public:
  virtual ~ReceiveFilter() = default;
  // Packets the filter has counted so far with the verdict `drop` (drop=true) or as passed
  // same-network traffic (drop=false); nullopt when the filter keeps no such count.
  virtual Result<std::optional<uint64_t>> counted(bool drop) const = 0;
  // How it is attached, for the report (e.g. "native", "native, libxdp dispatcher").
  virtual std::string detail() const { return ""; }
  // The BPF program the filter runs on every frame, for the kernel's run-time statistics
  // (program_cost in live_bench.cpp); -1 when the filter runs none.
  virtual int program_fd() const { return -1; }
};

Result<std::unique_ptr<ReceiveFilter>> install_filter(FilterKind kind, const ReceiverEnv &env);

}  // namespace sixguard::bench
