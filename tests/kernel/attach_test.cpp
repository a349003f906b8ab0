// Test that the datapath's programs attach to a machine interface (a veth inside namespaces
// the test creates) the way DESIGN §2/§5 require: XDP for machine_egress (native, else
// generic; TC clsact ingress on kernels whose XDP programs lack bpf_xdp_load_bytes, and
// wherever the configuration asks for it), TC clsact egress for machine_ingress, TC ingress for
// uplinks; attachments left in place by default and removed on request; a restarted agent adopting
// or atomically replacing its own programs; re-attachment after the interface is recreated; a
// foreign XDP program never removed; uninstall removing only ours.
#include <bpf/libbpf.h>
#include <gtest/gtest.h>
#include <linux/if_link.h>
#include <xdp/libxdp.h>

#include <sys/stat.h>

#include <bpf/bpf.h>

#include <cerrno>
#include <iostream>

#include "agent/core/address.h"
#include "agent/datapath/bpf_logging.h"
#include "agent/datapath/datapath.h"
#include "agent/datapath/link_xdp.h"
#include "agent/core/fd.h"
#include "tests/common/kernel_test.h"
#include "tests/common/netns.h"
#include "agent/datapath/program_names.h"
#include "agent/datapath/prog_info.h"

namespace sixguard {
namespace {

using test::NetNs;
using test::PinDir;
using test::VethPair;

// Loading the datapath (every program through the verifier) is most of a test's cost: ~5 s on
// the host under load, more under TCG in the VM suite, which runs this binary whole. Tests that
// only attach with the loaded programs share one load per process (an agent, too, attaches one
// loaded object to every machine interface); tests about an agent's lifecycle (its
// destruction, uninstall) load their own with use_own_datapath(). ctest runs each test in its
// own process, so there every test still loads once.
class AttachKernel : public ::testing::Test {
 protected:
  static void TearDownTestSuite() {
    shared_datapath_.reset();
    shared_pins_.reset();
  }

  // The test's own agent in its own pin directory, for tests that destroy or uninstall it.
  void use_own_datapath() {
    auto datapath = Datapath::load(options());
    ASSERT_TRUE(datapath) << datapath.error().describe();
    datapath_ = std::move(*datapath);
  }

  void SetUp() override {
    // libbpf/libxdp warnings for conditions the datapath handles stay out of the output.
    route_bpf_library_logs([](std::string_view origin, BpfLogLevel, std::string_view message) {
      std::cerr << origin << ": " << message << "\n";
    });
    SG_REQUIRE_KERNEL();
    SG_REQUIRE_NETNS();
    auto pins = PinDir::create("sixguard-h2test");
    ASSERT_TRUE(pins) << pins.error().describe();
    pins_.emplace(std::move(*pins));
    auto host = NetNs::create("sg-h2-");
    auto machine = NetNs::create("sg-h2-");
    ASSERT_TRUE(host && machine);
    host_.emplace(std::move(*host));
    machine_.emplace(std::move(*machine));
    ASSERT_TRUE(make_veth());
    if (!shared_datapath_) {
      auto pins = PinDir::create("sixguard-h2shared");
      ASSERT_TRUE(pins) << pins.error().describe();
      DatapathOptions shared_options;
      shared_options.bpffs = pins->path();
      auto datapath = Datapath::load(shared_options);
      ASSERT_TRUE(datapath) << datapath.error().describe();
      shared_pins_.emplace(std::move(*pins));
      shared_datapath_ = std::move(*datapath);
    }
    datapath_ = shared_datapath_;
  }

  void TearDown() override {
    // Whatever a test left attached goes with the namespaces; the pins with PinDir.
    datapath_.reset();
    veth_.reset();
    machine_.reset();
    host_.reset();
  }

  DatapathOptions options(EgressHookChoice egress_hook = EgressHookChoice::kAuto) const {
    DatapathOptions options;
    options.bpffs = pins_->path();
    options.egress_hook = egress_hook;
    return options;
  }

  // Runs fn inside the host namespace (where the machine interface's host side lives).
  template <typename F>
  auto in_host(F &&fn) {
    auto result = host_->run(std::forward<F>(fn));
    EXPECT_TRUE(result) << "could not enter " << host_->name();
    if constexpr (!std::is_void_v<std::invoke_result_t<F>>) return std::move(*result);
  }

  bool egress_on_xdp() const { return datapath_->egress_hook().hook == EgressHook::kXdp; }

  // Whether machine_egress of ours is on the interface, on hook. Call outside namespaces.
  bool egress_attached(EgressHook hook) {
    if (hook == EgressHook::kXdp) {
      auto xdp = in_host([&] { return XdpProgram::query(ifindex_); });
      EXPECT_TRUE(xdp) << xdp.error().describe();
      return xdp && xdp->attached;
    }
    auto tc = in_host([&] { return TcAttachment::query(ifindex_, TcDirection::kIngress); });
    EXPECT_TRUE(tc) << tc.error().describe();
    return tc && tc->has_value() && kernel_name_matches((*tc)->program_name, kProgMachineEgressTc);
  }
  bool egress_attached() { return egress_attached(datapath_->egress_hook().hook); }

  // Host side "sgh2host" in host_, machine side "sgh2vm" in machine_.
  Status make_veth() {
    veth_.reset();
    auto veth = VethPair::create(*host_, "sgh2host", *machine_, "sgh2vm");
    if (!veth) return veth.error();
    veth_.emplace(std::move(*veth));
    auto index = host_->ifindex("sgh2host");
    if (!index) return index.error();
    ifindex_ = *index;
    return {};
  }

  std::string bpftool_net() {
    auto output = host_->exec({"bpftool", "net", "show", "dev", "sgh2host"});
    if (!output) return "bpftool failed: " + output.error().describe();
    return output->output;
  }

  // The id of the XDP program the kernel runs on the interface (libxdp's dispatcher, or a
  // program attached directly); 0 when none. Call inside the host namespace.
  uint32_t xdp_program_on_interface() const {
    xdp_multiprog *multiprog = xdp_multiprog__get_from_ifindex(ifindex_);
    if (libxdp_get_error(multiprog) != 0 || multiprog == nullptr) return 0;
    const xdp_program *main = xdp_multiprog__main_prog(multiprog);
    const uint32_t id = main != nullptr ? xdp_program__id(main) : 0;
    xdp_multiprog__close(multiprog);
    return id;
  }

  // True when the interface runs libxdp's dispatcher dispatcher_id and program component_id
  // (named sg_machine_egress) is one of its components. Call inside the host namespace.
  bool dispatcher_holds(uint32_t dispatcher_id, uint32_t component_id) const {
    xdp_multiprog *multiprog = xdp_multiprog__get_from_ifindex(ifindex_);
    if (libxdp_get_error(multiprog) != 0 || multiprog == nullptr) return false;
    bool found = false;
    const xdp_program *main = xdp_multiprog__main_prog(multiprog);
    if (!xdp_multiprog__is_legacy(multiprog) && main != nullptr &&
        xdp_program__id(main) == dispatcher_id) {
      for (auto *p = xdp_multiprog__next_prog(nullptr, multiprog); p != nullptr;
           p = xdp_multiprog__next_prog(p, multiprog)) {
        const char *name = xdp_program__name(p);
        found = found || (xdp_program__id(p) == component_id && name != nullptr &&
                          kernel_name_matches(name, kProgMachineEgress));
      }
    }
    xdp_multiprog__close(multiprog);
    return found;
  }

  static inline std::optional<PinDir> shared_pins_;
  static inline std::shared_ptr<Datapath> shared_datapath_;

  std::optional<PinDir> pins_;
  std::optional<NetNs> host_, machine_;
  std::optional<VethPair> veth_;
  std::shared_ptr<Datapath> datapath_;  // the shared load, or the test's own
  int ifindex_ = 0;
};

TEST_F(AttachKernel, MachineHooksAttachAndBpftoolSeesThem) {
  auto egress = in_host([&] { return datapath_->attach_machine_egress(ifindex_); });
  ASSERT_TRUE(egress) << egress.error().describe();
  auto ingress = in_host([&] { return datapath_->attach_machine_ingress(ifindex_); });
  ASSERT_TRUE(ingress) << ingress.error().describe();
  egress->set_on_destroy(OnDestroy::kDetach);
  ingress->set_on_destroy(OnDestroy::kDetach);
  std::cout << "machine_egress on veth: " << egress->mode_name()
            << (egress->xdp() == nullptr         ? " (TC clsact ingress)"
                : egress->xdp()->in_dispatcher() ? " (libxdp dispatcher)"
                                                 : " (attached directly)")
            << "; " << datapath_->egress_hook().reason << std::endl;
  EXPECT_FALSE(egress->adopted());
  EXPECT_GT(egress->program_id(), 0u);

  auto tc = in_host([&] { return TcAttachment::query(ifindex_, TcDirection::kEgress); });
  ASSERT_TRUE(tc && tc->has_value());
  EXPECT_EQ((*tc)->program_id, ingress->program_id());
  EXPECT_EQ((*tc)->program_name, "sg_machine_ingr");
  const std::string net = bpftool_net();
  EXPECT_NE(net.find("sg_machine_ingr"), std::string::npos) << net;
  EXPECT_NE(net.find("sgh2host(" + std::to_string(ifindex_) + ") clsact/egress"), std::string::npos)
      << net;

  if (!egress_on_xdp()) {
    ASSERT_EQ(egress->xdp(), nullptr);
    EXPECT_EQ(egress->mode_name(), "tc");
    auto on_ingress = in_host([&] { return TcAttachment::query(ifindex_, TcDirection::kIngress); });
    ASSERT_TRUE(on_ingress && on_ingress->has_value());
    EXPECT_EQ((*on_ingress)->program_id, egress->program_id());
    EXPECT_EQ((*on_ingress)->program_name, kProgMachineEgressTc);
    EXPECT_NE(net.find("sgh2host(" + std::to_string(ifindex_) + ") clsact/ingress sg_egress_tc"),
              std::string::npos)
        << net;
    auto xdp = in_host([&] { return XdpProgram::query(ifindex_); });
    ASSERT_TRUE(xdp);
    EXPECT_FALSE(xdp->attached) << "machine_egress on TC must not also be on XDP";
    return;
  }
  const XdpAttachment *attached = egress->xdp();
  ASSERT_NE(attached, nullptr);
  auto xdp = in_host([&] { return XdpProgram::query(ifindex_); });
  ASSERT_TRUE(xdp) << xdp.error().describe();
  EXPECT_TRUE(xdp->attached);
  EXPECT_EQ(xdp->program_id, egress->program_id());
  EXPECT_EQ(xdp->mode, attached->mode());

  // What the kernel runs on the interface: our program itself when attached directly, else
  // libxdp's dispatcher, which must then hold our program as one of its components.
  const uint32_t on_interface = in_host([&] { return xdp_program_on_interface(); });
  if (attached->in_dispatcher()) {
    EXPECT_TRUE(in_host([&] { return dispatcher_holds(on_interface, egress->program_id()); }))
        << "dispatcher id " << on_interface << " does not hold our program id "
        << egress->program_id();
  } else {
    EXPECT_EQ(on_interface, egress->program_id());
  }
  // bpftool lists XDP by mode and program id: "sgh2host(2) driver id 514".
  const std::string xdp_line = "sgh2host(" + std::to_string(ifindex_) + ") " +
                               (attached->mode() == XdpMode::kNative ? "driver" : "generic") +
                               " id " + std::to_string(on_interface);
  EXPECT_NE(net.find(xdp_line), std::string::npos) << net;
}

TEST_F(AttachKernel, UplinkUsesTheL2ProgramOnEthernet) {
  auto uplink = in_host([&] { return datapath_->attach_uplink(ifindex_); });
  ASSERT_TRUE(uplink) << uplink.error().describe();
  uplink->set_on_destroy(OnDestroy::kDetach);
  auto tc = in_host([&] { return TcAttachment::query(ifindex_, TcDirection::kIngress); });
  ASSERT_TRUE(tc && tc->has_value());
  EXPECT_EQ((*tc)->program_name, "sg_uplink");
  auto l3 = in_host([&] { return is_l3_device(ifindex_); });
  ASSERT_TRUE(l3);
  EXPECT_FALSE(*l3);
}

TEST_F(AttachKernel, UplinkUsesTheL3ProgramOnADeviceWithoutEthernet) {
  // A tun device is L3 (ARPHRD_NONE), like WireGuard.
  ASSERT_TRUE(host_->ip({"tuntap", "add", "dev", "sgh2tun", "mode", "tun"}));
  ASSERT_TRUE(host_->ip({"link", "set", "sgh2tun", "up"}));
  auto tun = host_->ifindex("sgh2tun");
  ASSERT_TRUE(tun);
  auto l3 = in_host([&] { return is_l3_device(*tun); });
  ASSERT_TRUE(l3) << l3.error().describe();
  EXPECT_TRUE(*l3);
  auto uplink = in_host([&] { return datapath_->attach_uplink(*tun); });
  ASSERT_TRUE(uplink) << uplink.error().describe();
  auto tc = in_host([&] { return TcAttachment::query(*tun, TcDirection::kIngress); });
  ASSERT_TRUE(tc && tc->has_value());
  EXPECT_EQ((*tc)->program_name, "sg_uplink_l3");
}

TEST_F(AttachKernel, DestructionLeavesProgramsAttachedUnlessAskedToDetach) {
  ASSERT_NO_FATAL_FAILURE(use_own_datapath());
  {
    auto egress = in_host([&] { return datapath_->attach_machine_egress(ifindex_); });
    auto ingress = in_host([&] { return datapath_->attach_machine_ingress(ifindex_); });
    ASSERT_TRUE(egress && ingress);
    // Default: kLeaveAttached (the agent exiting normally).
  }
  const EgressHook hook = datapath_->egress_hook().hook;
  datapath_.reset();  // the "agent" is gone entirely
  EXPECT_TRUE(egress_attached(hook));
  auto tc = in_host([&] { return TcAttachment::query(ifindex_, TcDirection::kEgress); });
  ASSERT_TRUE(tc);
  EXPECT_TRUE(tc->has_value());

  // A new agent adopts what is there; this time the objects detach on destruction.
  auto datapath = Datapath::load(options());
  ASSERT_TRUE(datapath) << datapath.error().describe();
  {
    auto egress = in_host([&] { return (*datapath)->attach_machine_egress(ifindex_); });
    auto ingress = in_host([&] { return (*datapath)->attach_machine_ingress(ifindex_); });
    ASSERT_TRUE(egress) << egress.error().describe();
    ASSERT_TRUE(ingress) << ingress.error().describe();
    EXPECT_TRUE(egress->adopted());
    EXPECT_TRUE(ingress->adopted());
    egress->set_on_destroy(OnDestroy::kDetach);
    ingress->set_on_destroy(OnDestroy::kDetach);
    // Destruction must run on the namespace's thread: netlink acts where it is called.
    in_host([&] {
      auto moved_egress = std::move(*egress);
      auto moved_ingress = std::move(*ingress);
    });
  }
  EXPECT_FALSE(egress_attached(hook));
  tc = in_host([&] { return TcAttachment::query(ifindex_, TcDirection::kEgress); });
  ASSERT_TRUE(tc);
  EXPECT_FALSE(tc->has_value());
}

TEST_F(AttachKernel, OurTcProgramIsReplacedInPlaceWithoutDetaching) {
  auto first = in_host([&] { return datapath_->attach_machine_ingress(ifindex_); });
  ASSERT_TRUE(first) << first.error().describe();
  // A different program of ours at the same handle/priority: an upgrade, swapped atomically.
  const int other = datapath_->program_fd("sg_uplink");
  auto replaced =
      in_host([&] { return TcAttachment::attach(ifindex_, TcDirection::kEgress, other); });
  ASSERT_TRUE(replaced) << replaced.error().describe();
  EXPECT_FALSE(replaced->adopted());
  EXPECT_NE(replaced->program_id(), first->program_id());
  auto tc = in_host([&] { return TcAttachment::query(ifindex_, TcDirection::kEgress); });
  ASSERT_TRUE(tc && tc->has_value());
  EXPECT_EQ((*tc)->program_id, replaced->program_id());
  const std::string net = bpftool_net();
  // Exactly one filter of ours: replaced, not added next to the old one.
  EXPECT_EQ(net.find("sg_machine_ingr"), std::string::npos) << net;
  EXPECT_NE(net.find("sg_uplink"), std::string::npos) << net;
}

TEST_F(AttachKernel, ReattachesAfterTheInterfaceIsRecreated) {
  auto egress = in_host([&] { return datapath_->attach_machine_egress(ifindex_); });
  ASSERT_TRUE(egress) << egress.error().describe();
  const int old_ifindex = ifindex_;
  ASSERT_TRUE(veth_->remove());
  ASSERT_TRUE(make_veth());  // the machine restarted: same name, new interface
  EXPECT_FALSE(egress_attached());
  auto again = in_host([&] { return datapath_->attach_machine_egress(ifindex_); });
  ASSERT_TRUE(again) << again.error().describe();
  auto ingress = in_host([&] { return datapath_->attach_machine_ingress(ifindex_); });
  ASSERT_TRUE(ingress) << ingress.error().describe();
  EXPECT_TRUE(egress_attached());
  EXPECT_NE(ifindex_, old_ifindex);
}

// A program that is not ours, attached through libxdp (from libxdp's own object files).
struct ForeignXdp {
  xdp_program *program = nullptr;
  int ifindex = 0;
  ~ForeignXdp() {
    if (program != nullptr) xdp_program__close(program);
  }
};

TEST_F(AttachKernel, ForeignXdpProgramIsNeverRemoved) {
  ASSERT_NO_FATAL_FAILURE(use_own_datapath());
  ForeignXdp foreign;
  foreign.ifindex = ifindex_;
  int attached = in_host([&] {
    // Its maps are pinned by name: keep them inside the test's pin directory.
    const std::string pin_root = pins_->path() + "/foreign";
    LIBBPF_OPTS(bpf_object_open_opts, open_opts, .pin_root_path = pin_root.c_str());
    foreign.program = xdp_program__find_file("xdpfilt_alw_all.o", nullptr, &open_opts);
    if (libxdp_get_error(foreign.program) != 0) {
      foreign.program = nullptr;
      return -ENOENT;
    }
    return xdp_program__attach(foreign.program, ifindex_, XDP_MODE_NATIVE, 0);
  });
  ASSERT_NE(foreign.program, nullptr) << "libxdp's xdpfilt_alw_all.o not found (libxdp1)";
  ASSERT_EQ(attached, 0);
  const uint32_t foreign_id = xdp_program__id(foreign.program);

  auto ours = in_host([&] { return datapath_->attach_machine_egress(ifindex_); });
  const std::string net = bpftool_net();
  if (!egress_on_xdp()) {
    // On TC the XDP hook is the foreign program's alone.
    ASSERT_TRUE(ours) << ours.error().describe();
    EXPECT_EQ(ours->mode_name(), "tc");
    EXPECT_TRUE(egress_attached());
  } else if (ours) {
    // Behind libxdp's dispatcher: both run.
    ours->set_on_destroy(OnDestroy::kLeaveAttached);
    ASSERT_NE(ours->xdp(), nullptr);
    EXPECT_TRUE(ours->xdp()->in_dispatcher());
    auto present = in_host([&] { return XdpProgram::query(ifindex_); });
    ASSERT_TRUE(present && present->attached);
    ASSERT_TRUE(in_host([&] { return XdpProgram::detach_ours(ifindex_); }));
  } else {
    // No dispatcher possible (kernel refuses freplace): ours is refused, loudly.
    std::cout << "no libxdp dispatcher here: " << ours.error().describe() << std::endl;
    EXPECT_EQ(ours.error().code, EBUSY);
    EXPECT_NE(ours.error().message.find("does not replace it"), std::string::npos);
  }
  // Either way the foreign program is still attached, and uninstall leaves it too.
  ASSERT_TRUE(in_host([&] { return uninstall_datapath(datapath_->pin_dir()); }));
  bool foreign_present = in_host([&] {
    xdp_multiprog *multiprog = xdp_multiprog__get_from_ifindex(ifindex_);
    if (libxdp_get_error(multiprog) != 0 || multiprog == nullptr) return false;
    bool found = false;
    if (xdp_multiprog__is_legacy(multiprog)) {
      found = xdp_program__id(xdp_multiprog__main_prog(multiprog)) == foreign_id;
    } else {
      for (auto *p = xdp_multiprog__next_prog(nullptr, multiprog); p != nullptr;
           p = xdp_multiprog__next_prog(p, multiprog)) {
        found = found || xdp_program__id(p) == foreign_id;
      }
    }
    xdp_multiprog__close(multiprog);
    return found;
  });
  EXPECT_TRUE(foreign_present) << net;
  auto still_ours = in_host([&] { return XdpProgram::query(ifindex_); });
  ASSERT_TRUE(still_ours);
  EXPECT_FALSE(still_ours->attached);
  EXPECT_FALSE(egress_attached());
  in_host([&] { (void)xdp_program__detach(foreign.program, ifindex_, XDP_MODE_UNSPEC, 0); });
}

TEST_F(AttachKernel, UninstallRemovesOurProgramsAndPins) {
  ASSERT_NO_FATAL_FAILURE(use_own_datapath());
  auto egress = in_host([&] { return datapath_->attach_machine_egress(ifindex_); });
  auto ingress = in_host([&] { return datapath_->attach_machine_ingress(ifindex_); });
  ASSERT_TRUE(egress && ingress);
  const std::string pin_dir = datapath_->pin_dir();
  const EgressHook hook = datapath_->egress_hook().hook;
  datapath_.reset();
  ASSERT_TRUE(in_host([&] { return uninstall_datapath(pin_dir); }));
  EXPECT_FALSE(egress_attached(hook));
  auto tc = in_host([&] { return TcAttachment::query(ifindex_, TcDirection::kEgress); });
  ASSERT_TRUE(tc);
  EXPECT_FALSE(tc->has_value());
  struct stat st {};
  EXPECT_NE(::stat(pin_dir.c_str(), &st), 0);
  // A new load after uninstall starts from fresh maps.
  auto fresh = Datapath::load(options());
  ASSERT_TRUE(fresh) << fresh.error().describe();
}

}  // namespace
}  // namespace sixguard

namespace sixguard {
namespace {

// An "older build" of our XDP program: same name, different instructions (different tag).
Result<int> load_old_machine_egress() {
  bpf_insn program[2] = {};
  program[0].code = BPF_ALU64 | BPF_MOV | BPF_K;
  program[0].dst_reg = 0;
  program[0].imm = XDP_PASS;
  program[1].code = BPF_JMP | BPF_EXIT;
  int fd = bpf_prog_load(BPF_PROG_TYPE_XDP, "sg_machine_egress", "GPL", program, 2, nullptr);
  if (fd < 0) return errno_error("load old sg_machine_egress");
  return fd;
}

TEST_F(AttachKernel, OurOlderXdpProgramIsReplacedAtomically) {
  // Its own load: the subject is a fresh agent replacing its older build (the shared load may
  // already be in a dispatcher elsewhere: the next test).
  ASSERT_NO_FATAL_FAILURE(use_own_datapath());
  auto old_fd = load_old_machine_egress();
  ASSERT_TRUE(old_fd) << old_fd.error().describe();
  Fd old(*old_fd);
  int err =
      in_host([&] { return bpf_xdp_attach(ifindex_, old.get(), XDP_FLAGS_DRV_MODE, nullptr); });
  ASSERT_EQ(err, 0);
  auto before = in_host([&] { return XdpProgram::query(ifindex_); });
  ASSERT_TRUE(before && before->attached);  // recognised as ours by name

  auto replaced = in_host([&] { return datapath_->attach_machine_egress(ifindex_); });
  ASSERT_TRUE(replaced) << replaced.error().describe();
  replaced->set_on_destroy(OnDestroy::kLeaveAttached);
  EXPECT_FALSE(replaced->adopted());
  EXPECT_NE(replaced->program_id(), before->program_id);
  if (!egress_on_xdp()) {
    // This kernel runs machine_egress on TC: the old XDP program goes once TC enforces.
    EXPECT_EQ(replaced->mode_name(), "tc");
    EXPECT_TRUE(egress_attached(EgressHook::kTc));
    EXPECT_FALSE(egress_attached(EgressHook::kXdp));
    return;
  }
  ASSERT_NE(replaced->xdp(), nullptr);
  EXPECT_EQ(replaced->xdp()->mode(), XdpMode::kNative);  // the mode it had is kept
  auto after = in_host([&] { return XdpProgram::query(ifindex_); });
  ASSERT_TRUE(after && after->attached);
  EXPECT_EQ(after->program_id, replaced->program_id());
  EXPECT_GE(datapath_->program_fd("sg_machine_egress"), 0);
}

TEST_F(AttachKernel, OlderDirectProgramIsReplacedAfterOursJoinedADispatcherElsewhere) {
  // A mixed host after an upgrade: the agent's machine_egress first goes on a fresh interface
  // (through libxdp's dispatcher where the kernel allows freplace, which makes libxdp's
  // instance an extension program), then meets its older build attached directly on another.
  // The replace must swap in a plain XDP program: an extension is refused there (EINVAL).
  ASSERT_NO_FATAL_FAILURE(use_own_datapath());
  if (!egress_on_xdp()) GTEST_SKIP() << "machine_egress runs on TC on this kernel";
  auto other = VethPair::create(*host_, "sgh2host2", *machine_, "sgh2vm2");
  ASSERT_TRUE(other) << other.error().describe();
  auto other_index = host_->ifindex("sgh2host2");
  ASSERT_TRUE(other_index) << other_index.error().describe();
  auto first = in_host([&] { return datapath_->attach_machine_egress(*other_index); });
  ASSERT_TRUE(first) << first.error().describe();
  first->set_on_destroy(OnDestroy::kLeaveAttached);
  ASSERT_NE(first->xdp(), nullptr);
  std::cout << "first interface: " << (first->xdp()->in_dispatcher() ? "in" : "not in")
            << " libxdp's dispatcher" << std::endl;

  auto old_fd = load_old_machine_egress();
  ASSERT_TRUE(old_fd) << old_fd.error().describe();
  Fd old(*old_fd);
  ASSERT_EQ(
      in_host([&] { return bpf_xdp_attach(ifindex_, old.get(), XDP_FLAGS_DRV_MODE, nullptr); }), 0);
  auto before = in_host([&] { return XdpProgram::query(ifindex_); });
  ASSERT_TRUE(before && before->attached && !before->in_dispatcher);

  auto replaced = in_host([&] { return datapath_->attach_machine_egress(ifindex_); });
  ASSERT_TRUE(replaced) << replaced.error().describe();
  replaced->set_on_destroy(OnDestroy::kLeaveAttached);
  EXPECT_FALSE(replaced->adopted());
  ASSERT_NE(replaced->xdp(), nullptr);
  EXPECT_FALSE(replaced->xdp()->in_dispatcher());
  EXPECT_EQ(replaced->xdp()->mode(), XdpMode::kNative);
  auto after = in_host([&] { return XdpProgram::query(ifindex_); });
  ASSERT_TRUE(after && after->attached);
  EXPECT_NE(after->program_id, before->program_id);
  EXPECT_EQ(after->program_id, replaced->program_id());
  auto info = program_info_by_id(after->program_id);
  ASSERT_TRUE(info) << info.error().describe();
  EXPECT_EQ(info->type, uint32_t{BPF_PROG_TYPE_XDP});
  // The first interface still runs ours, untouched.
  auto first_now = in_host([&] { return XdpProgram::query(*other_index); });
  ASSERT_TRUE(first_now && first_now->attached);
  EXPECT_EQ(first_now->program_id, first->program_id());
}

}  // namespace
}  // namespace sixguard

namespace sixguard {
namespace {

std::string mac_of(const NetNs &ns, const std::string &interface) {
  // Through `ip`: /sys/class/net shows the namespace sysfs was mounted in.
  auto link = ns.ip({"-o", "link", "show", interface});
  if (!link) return "";
  auto at = link->find("link/ether ");
  return at == std::string::npos ? "" : link->substr(at + 11, 17);
}

uint64_t packets(const PinnedMaps &maps, sg_hook hook, sg_verdict verdict, sg_reason reason) {
  auto sum =
      maps.counters.read_sum(SG_COUNTER_INDEX(uint32_t{hook}, uint32_t{verdict}, uint32_t{reason}));
  return sum ? sum->packets : ~0ull;
}

// Issue 14's attach cost: where libxdp attached our program directly (the kernel refuses its
// dispatcher's freplace components), it would load a dispatcher, its test program and libbpf's
// probes again on every interface only to do the same. Later interfaces get that same loaded
// program directly (same id: nothing new loaded). Where the dispatcher works (the 6.1 and
// 6.12 guests), every interface keeps getting one.
TEST_F(AttachKernel, LaterInterfacesAttachTheWayLibxdpAttachedTheFirst) {
  ASSERT_NO_FATAL_FAILURE(use_own_datapath());
  if (!egress_on_xdp()) GTEST_SKIP() << "machine_egress runs on TC on this kernel";
  auto one = VethPair::create(*host_, "sgh2host3", *machine_, "sgh2vm3");
  ASSERT_TRUE(one) << one.error().describe();
  auto two = VethPair::create(*host_, "sgh2host4", *machine_, "sgh2vm4");
  ASSERT_TRUE(two) << two.error().describe();
  auto one_index = host_->ifindex("sgh2host3");
  auto two_index = host_->ifindex("sgh2host4");
  ASSERT_TRUE(one_index && two_index);

  auto first = in_host([&] { return datapath_->attach_machine_egress(*one_index); });
  ASSERT_TRUE(first) << first.error().describe();
  ASSERT_NE(first->xdp(), nullptr);
  auto second = in_host([&] { return datapath_->attach_machine_egress(*two_index); });
  ASSERT_TRUE(second) << second.error().describe();
  ASSERT_NE(second->xdp(), nullptr);
  std::cout << "first: " << first->decision() << "; second: " << second->decision() << std::endl;

  auto seen = in_host([&] { return XdpProgram::query(*two_index); });
  ASSERT_TRUE(seen && seen->attached);
  EXPECT_EQ(seen->program_id, second->program_id());
  EXPECT_EQ(second->xdp()->mode(), first->xdp()->mode());
  if (first->xdp()->in_dispatcher()) {
    EXPECT_TRUE(second->xdp()->in_dispatcher());
    EXPECT_EQ(second->decision().find("directly"), std::string::npos) << second->decision();
  } else {
    EXPECT_FALSE(seen->in_dispatcher);
    EXPECT_EQ(second->program_id(), first->program_id()) << "the loaded program, not a new one";
    EXPECT_NE(second->decision().find("directly"), std::string::npos) << second->decision();
  }
}

// query_link_xdp (one RTM_GETLINK for one interface) says what libbpf's bpf_xdp_query (a dump
// of every link) says: nothing, a native program, a generic one; and ENODEV for no interface.
TEST_F(AttachKernel, LinkQueryAgreesWithLibbpfForOneInterface) {
  ASSERT_NO_FATAL_FAILURE(use_own_datapath());
  auto old_fd = load_old_machine_egress();
  ASSERT_TRUE(old_fd) << old_fd.error().describe();
  Fd program(*old_fd);
  const auto both = [&](uint8_t mode) {
    auto link = in_host([&] { return query_link_xdp(ifindex_); });
    ASSERT_TRUE(link) << link.error().describe();
    LIBBPF_OPTS(bpf_xdp_query_opts, libbpf);
    ASSERT_EQ(in_host([&] { return bpf_xdp_query(ifindex_, 0, &libbpf); }), 0);
    EXPECT_EQ(link->attach_mode, mode);
    EXPECT_EQ(link->attach_mode, libbpf.attach_mode);
    EXPECT_EQ(link->prog_id, libbpf.prog_id);
  };
  ASSERT_NO_FATAL_FAILURE(both(XDP_ATTACHED_NONE));
  for (const auto &[flag, mode] : {std::pair{XDP_FLAGS_DRV_MODE, XDP_ATTACHED_DRV},
                                   std::pair{XDP_FLAGS_SKB_MODE, XDP_ATTACHED_SKB}}) {
    ASSERT_EQ(in_host([&] { return bpf_xdp_attach(ifindex_, program.get(), flag, nullptr); }), 0);
    ASSERT_NO_FATAL_FAILURE(both(mode));
    auto info = program_info_by_fd(program.get());
    ASSERT_TRUE(info);
    auto link = in_host([&] { return query_link_xdp(ifindex_); });
    ASSERT_TRUE(link);
    EXPECT_EQ(link->prog_id, info->id);
    ASSERT_EQ(in_host([&] { return bpf_xdp_detach(ifindex_, flag, nullptr); }), 0);
  }
  ASSERT_NO_FATAL_FAILURE(both(XDP_ATTACHED_NONE));
  auto missing = query_link_xdp(0x7ffffff0);
  ASSERT_FALSE(missing);
  EXPECT_EQ(missing.error().code, ENODEV) << missing.error().describe();
}

TEST_F(AttachKernel, RealTrafficIsClassifiedAndCounted) {
  // Machine fdaa:0:1:a:b:c:d:2 of app 7 on network 1 behind sgh2host; the host answers for
  // fdaa:0:1::1 (same network). fdaa:0:2::5 is on network 2.
  sg_machine machine{};
  machine.prefix = parse_ipv6("fdaa:0:1:a:b:c:d:0")->raw();
  machine.app_id = 7;
  machine.network_id = 1;
  ASSERT_TRUE(datapath_->maps().machines.update(static_cast<uint32_t>(ifindex_), machine));
  // The load may be shared with later tests, whose interfaces may reuse this ifindex.
  struct ForgetMachine {
    Datapath &datapath;
    uint32_t ifindex;
    ~ForgetMachine() { (void)datapath.maps().machines.remove(ifindex); }
  } forget{*datapath_, static_cast<uint32_t>(ifindex_)};
  ASSERT_TRUE(veth_->add_address_a("fdaa:0:1::1/128"));
  ASSERT_TRUE(veth_->add_address_b("fdaa:0:1:a:b:c:d:2/112"));
  const std::string host_mac = mac_of(*host_, "sgh2host");
  const std::string vm_mac = mac_of(*machine_, "sgh2vm");
  ASSERT_EQ(host_mac.size(), 17u);
  ASSERT_EQ(vm_mac.size(), 17u);
  ASSERT_TRUE(machine_->ip({"-6", "route", "add", "fdaa::/16", "dev", "sgh2vm"}));
  ASSERT_TRUE(host_->ip({"-6", "route", "add", "fdaa:0:1:a:b:c:d:0/112", "dev", "sgh2host"}));
  // Static neighbours: the test is about the data packets, not neighbour discovery.
  for (const char *dst : {"fdaa:0:1::1", "fdaa:0:2::5"}) {
    ASSERT_TRUE(machine_->ip({"-6", "neigh", "replace", dst, "lladdr", host_mac, "dev", "sgh2vm"}));
  }
  ASSERT_TRUE(host_->ip(
      {"-6", "neigh", "replace", "fdaa:0:1:a:b:c:d:2", "lladdr", vm_mac, "dev", "sgh2host"}));

  auto egress = in_host([&] { return datapath_->attach_machine_egress(ifindex_); });
  ASSERT_TRUE(egress) << egress.error().describe();
  auto ingress = in_host([&] { return datapath_->attach_machine_ingress(ifindex_); });
  ASSERT_TRUE(ingress) << ingress.error().describe();
  const auto &maps = datapath_->maps();

  // Counts from before: the counters of a shared load may hold other tests' packets.
  const uint64_t egress_passed_before =
      packets(maps, SG_HOOK_MACHINE_EGRESS, SG_VERDICT_PASS, SG_REASON_SAME_NETWORK);
  const uint64_t ingress_passed_before =
      packets(maps, SG_HOOK_MACHINE_INGRESS, SG_VERDICT_PASS, SG_REASON_SAME_NETWORK);
  auto same = machine_->exec({"ping", "-6", "-c", "1", "-W", "2", "fdaa:0:1::1"});
  ASSERT_TRUE(same);
  EXPECT_EQ(same->exit_code, 0) << same->output;
  EXPECT_GE(packets(maps, SG_HOOK_MACHINE_EGRESS, SG_VERDICT_PASS, SG_REASON_SAME_NETWORK),
            egress_passed_before + 1);
  EXPECT_GE(packets(maps, SG_HOOK_MACHINE_INGRESS, SG_VERDICT_PASS, SG_REASON_SAME_NETWORK),
            ingress_passed_before + 1);

  const uint64_t dropped_before =
      packets(maps, SG_HOOK_MACHINE_EGRESS, SG_VERDICT_DROP, SG_REASON_CROSS_NETWORK);
  auto cross = machine_->exec({"ping", "-6", "-c", "2", "-i", "0.2", "-W", "1", "fdaa:0:2::5"});
  ASSERT_TRUE(cross);
  EXPECT_NE(cross->exit_code, 0) << cross->output;
  EXPECT_GE(packets(maps, SG_HOOK_MACHINE_EGRESS, SG_VERDICT_DROP, SG_REASON_CROSS_NETWORK),
            dropped_before + 2);
}

}  // namespace
}  // namespace sixguard

namespace sixguard {
namespace {

// Test that machine_egress runs where this kernel can run it (XDP when its XDP programs have
// bpf_xdp_load_bytes, else TC clsact ingress), that status's reason says why, and that asking
// for XDP where it cannot load fails to start instead of leaving machines unchecked.
TEST_F(AttachKernel, EgressHookFollowsTheKernel) {
  auto has_helper = kernel_has_xdp_load_bytes();
  ASSERT_TRUE(has_helper) << has_helper.error().describe();
  std::cout << "kernel XDP programs have bpf_xdp_load_bytes: " << (*has_helper ? "yes" : "no")
            << "; machine_egress on " << egress_hook_name(datapath_->egress_hook().hook) << " ("
            << datapath_->egress_hook().reason << ")" << std::endl;
  EXPECT_EQ(egress_on_xdp(), *has_helper);
  auto forced_xdp = Datapath::load(options(EgressHookChoice::kXdp));
  if (*has_helper) {
    EXPECT_TRUE(forced_xdp) << forced_xdp.error().describe();
    return;
  }
  EXPECT_NE(datapath_->egress_hook().reason.find("fallback"), std::string::npos);
  ASSERT_FALSE(forced_xdp);
  EXPECT_EQ(forced_xdp.error().code, EOPNOTSUPP);
  EXPECT_NE(forced_xdp.error().message.find("bpf_xdp_load_bytes"), std::string::npos);
}

// Test that an agent configured for the other hook moves machine_egress over and leaves
// exactly one hook behind. (That the new hook is attached before the old one is removed is
// the order of Datapath::attach_machine_egress; this test sees only the end states.)
TEST_F(AttachKernel, EgressMovesBetweenXdpAndTcWithoutLeavingBoth) {
  auto on_tc = Datapath::load(options(EgressHookChoice::kTc));
  ASSERT_TRUE(on_tc) << on_tc.error().describe();
  EXPECT_EQ((*on_tc)->egress_hook().hook, EgressHook::kTc);
  if (!egress_on_xdp()) {
    // Nothing to move from on this kernel: TC is all the agent uses.
    auto tc = in_host([&] { return (*on_tc)->attach_machine_egress(ifindex_); });
    ASSERT_TRUE(tc) << tc.error().describe();
    EXPECT_TRUE(egress_attached(EgressHook::kTc));
    EXPECT_FALSE(egress_attached(EgressHook::kXdp));
    return;
  }
  auto xdp = in_host([&] { return datapath_->attach_machine_egress(ifindex_); });
  ASSERT_TRUE(xdp) << xdp.error().describe();
  ASSERT_TRUE(egress_attached(EgressHook::kXdp));

  auto tc = in_host([&] { return (*on_tc)->attach_machine_egress(ifindex_); });
  ASSERT_TRUE(tc) << tc.error().describe();
  EXPECT_EQ(tc->mode_name(), "tc");
  EXPECT_TRUE(egress_attached(EgressHook::kTc));
  EXPECT_FALSE(egress_attached(EgressHook::kXdp));

  auto back = in_host([&] { return datapath_->attach_machine_egress(ifindex_); });
  ASSERT_TRUE(back) << back.error().describe();
  EXPECT_NE(back->mode_name(), "tc");
  EXPECT_TRUE(egress_attached(EgressHook::kXdp));
  EXPECT_FALSE(egress_attached(EgressHook::kTc));
}

}  // namespace
}  // namespace sixguard
