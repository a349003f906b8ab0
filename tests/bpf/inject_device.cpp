#include "tests/bpf/inject_device.h"

#include <bpf/libbpf.h>
#include <fcntl.h>
#include <linux/if_tun.h>
#include <net/if.h>
#include <sys/ioctl.h>
#include <unistd.h>

#include <cstring>
#include <regex>
#include <string>

#include "tests/common/command.h"

namespace sixguard::bpftest {

namespace {

Status tc_hook(uint32_t ifindex, int prog_fd) {
  LIBBPF_OPTS(bpf_tc_hook, hook, .ifindex = static_cast<int>(ifindex),
              .attach_point = BPF_TC_INGRESS);
  if (int err = bpf_tc_hook_create(&hook); err && err != -EEXIST) {
    return make_error("create clsact", -err);
  }
  LIBBPF_OPTS(bpf_tc_opts, opts, .prog_fd = prog_fd);
  if (int err = bpf_tc_attach(&hook, &opts); err) return make_error("attach tc ingress", -err);
  return {};
}

}  // namespace

Result<std::unique_ptr<InjectDevice>> InjectDevice::create(const test::NetNs &ns, const char *name,
                                                           Framing framing, int prog_fd) {
  // The device is made in the namespace of the thread that opens /dev/net/tun.
  auto made = ns.run([&]() -> Result<std::pair<int, uint32_t>> {
    Fd fd(::open("/dev/net/tun", O_RDWR | O_CLOEXEC));
    if (!fd.valid()) return errno_error("open /dev/net/tun");
    ifreq request{};
    // With the packet-information header the writer chooses skb->protocol, as a device
    // driver does; without it tun would guess from the version nibble. A tap takes whole
    // frames and reads the protocol from the Ethernet header.
    request.ifr_flags = framing == Framing::kL3 ? IFF_TUN : (IFF_TAP | IFF_NO_PI);
    std::strncpy(request.ifr_name, name, IFNAMSIZ - 1);
    if (::ioctl(fd.get(), TUNSETIFF, &request) != 0) return errno_error("TUNSETIFF");
    const uint32_t ifindex = ::if_nametoindex(name);
    if (ifindex == 0) return errno_error(std::string("if_nametoindex ") + name);
    if (auto status = tc_hook(ifindex, prog_fd); !status) return status.error();
    return std::make_pair(fd.release(), ifindex);
  });
  if (!made) return made.error();
  if (!*made) return made->error();
  Fd fd((*made)->first);
  std::unique_ptr<InjectDevice> device(
      new InjectDevice(ns, std::move(fd), name, framing, (*made)->second));
  if (auto up = ns.ip({"link", "set", name, "up"}); !up) return up.error();
  return device;
}

InjectDevice::~InjectDevice() {
  (void)ns_.run([&] {
    LIBBPF_OPTS(bpf_tc_hook, hook, .ifindex = static_cast<int>(ifindex_),
                .attach_point = static_cast<bpf_tc_attach_point>(BPF_TC_INGRESS | BPF_TC_EGRESS));
    bpf_tc_hook_destroy(&hook);
  });
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
