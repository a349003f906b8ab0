#include "tests/bpf/inject_device.h"

#include <linux/if_tun.h>
#include <unistd.h>

#include <regex>
#include <string>

#include "tests/common/command.h"
#include "tests/common/tc_device.h"

namespace sixguard::bpftest {

Result<std::unique_ptr<InjectDevice>> InjectDevice::create(const test::NetNs &ns, const char *name,
                                                           Framing framing, int prog_fd) {
  // With the packet-information header the writer chooses skb->protocol, as a device driver
  // does; without it tun would guess from the version nibble. A tap takes whole frames and
  // reads the protocol from the Ethernet header.
  const short flags = framing == Framing::kL3 ? IFF_TUN : (IFF_TAP | IFF_NO_PI);
  auto made = test::make_tun_device(ns, name, flags, prog_fd);
  if (!made) return made.error();
  return std::unique_ptr<InjectDevice>(
      new InjectDevice(ns, std::move(made->fd), name, framing, made->ifindex));
}

InjectDevice::~InjectDevice() {
  test::remove_clsact(ns_, ifindex_);
}

Status InjectDevice::inject(const std::vector<uint8_t> &packet, uint16_t protocol) const {
  std::vector<uint8_t> frame;
  if (framing_ == Framing::kL3) {
    frame = {0, 0, static_cast<uint8_t>(protocol >> 8),
             static_cast<uint8_t>(protocol)};  // struct tun_pi
  }
  frame.insert(frame.end(), packet.begin(), packet.end());
  const ssize_t written = ::write(fd_.get(), frame.data(), frame.size());
  if (written != static_cast<ssize_t>(frame.size())) return errno_error("write to " + name_);
  return {};
}

Result<uint64_t> InjectDevice::drops() const {
  auto shown = ns_.exec_ok({"tc", "-s", "qdisc", "show", "dev", name_, "ingress"});
  if (!shown) return shown.error();
  static const std::regex dropped(R"(dropped (\d+))");
  std::smatch match;
  if (!std::regex_search(*shown, match, dropped)) {
    return make_error("no drop counter in `tc -s qdisc show dev " + name_ + "`: " + *shown);
  }
  return std::stoull(match[1].str());
}

}  // namespace sixguard::bpftest
