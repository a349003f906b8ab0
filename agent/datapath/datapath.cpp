#include "agent/datapath/datapath.h"

#include <net/if.h>  // before any linux/ header: both define struct ifreq
#include <net/if_arp.h>

#include <bpf/bpf.h>
#include <bpf/libbpf.h>
#include <sys/ioctl.h>
#include <sys/socket.h>

#include <cerrno>
#include <cstring>
#include <dirent.h>
#include <unistd.h>

#include "agent/datapath/bpffs.h"
#include "agent/core/fd.h"
#include "agent/datapath/object_setup.h"
#include "agent/datapath/program_names.h"
#include "sg_datapath.skel.h"

namespace sixguard {
namespace {

// -1 for a program this load left out (enable_only): bpf_program__fd answers -EINVAL.
int program_fd_of(const bpf_program *program) {
  const int fd = bpf_program__fd(program);
  return fd >= 0 ? fd : -1;
}

}  // namespace

Result<std::unique_ptr<Datapath>> Datapath::load(const DatapathOptions &options) {
  if (auto status = options.sizes.validate(); !status) return status.error();
  if (auto status = ensure_bpffs(options.bpffs); !status) return status.error();
  const std::string pin_dir = options.bpffs + "/" + options.pin_subdir;
  if (auto status = make_pin_dir(pin_dir); !status) return status.error();

  auto opened = open_datapath_skeleton(pin_dir, "sixguard");
  if (!opened) return opened.error();
  // Destroyed on every error path below; ownership passes to the Datapath at the end.
  DatapathSkeleton skeleton = std::move(*opened);
  bpf_object *object = skeleton->obj;
  const auto &progs = skeleton->progs;

  auto egress_hook = decide_egress_hook(options.egress_hook);
  if (!egress_hook) return egress_hook.error();
  const bool egress_on_xdp = egress_hook->hook == EgressHook::kXdp;

  if (auto status = apply_map_sizes(object, options.sizes); !status) return status.error();
  // sg_machine_egress is loaded by libxdp from its own instance of the object (XdpProgram).
  auto enabled = egress_on_xdp
                     ? enable_only(object, {progs.sg_machine_ingress, progs.sg_uplink,
                                            progs.sg_uplink_l3, progs.sg_explain})
                     : enable_only(object, {progs.sg_egress_tc, progs.sg_machine_ingress,
                                            progs.sg_uplink, progs.sg_uplink_l3, progs.sg_explain});
  if (!enabled) return enabled.error();
  auto plan = check_pinned_maps(object, pin_dir);
  if (!plan) return plan.error();
  if (auto status = apply_pin_plan(object, *plan); !status) return status.error();
  if (int err = sg_datapath__load(skeleton.get()); err != 0) {
    return make_error("load BPF object (pins in " + pin_dir + "; libbpf's log above has details)",
                      -err);
  }
  auto copied = copy_entries(object, *plan);
  if (!copied) return copied.error();
  auto maps = PinnedMaps::from_object(object);
  if (!maps) return maps.error();
  std::unique_ptr<XdpProgram> xdp;
  if (egress_on_xdp) {
    const auto elf = datapath_object_elf();
    auto opened_xdp = XdpProgram::open(elf.data(), elf.size(), pin_dir, options.sizes, *plan);
    if (!opened_xdp) return opened_xdp.error();
    xdp = std::move(*opened_xdp);
  }
  // Nothing to migrate: the pins are ours already; sg_meta gets this build's layouts (an
  // older build's pin directory may have none).
  if (plan->migrations.empty()) {
    if (auto status = commit_pin_plan(object, *plan); !status) return status.error();
  }

  std::unique_ptr<Datapath> datapath(new Datapath(std::move(*maps)));
  datapath->skeleton_ = std::move(skeleton);
  datapath->xdp_ = std::move(xdp);
  datapath->egress_hook_ = std::move(*egress_hook);
  datapath->pin_dir_ = pin_dir;
  for (const auto &migration : plan->migrations) {
    datapath->migration_notes_.push_back(migration.name + " (" + migration.why + "; " +
                                         (migration.copy_entries ? "entries copied"
                                          : migration.name == SG_MAP_OWNER_SLOTS
                                              ? "a cache: filled from the state"
                                              : "another layout: filled from the state") +
                                         ")");
  }
  for (auto &note : *copied) datapath->migration_notes_.push_back(std::move(note));
  datapath->pending_ = std::move(*plan);
  datapath->sizes_ = options.sizes;
  return datapath;
}

// The XDP program's instance first, then the skeleton (members go in reverse order).
Datapath::~Datapath() = default;

Result<std::vector<std::string>> Datapath::commit_migration() {
  if (!pending_ || pending_->migrations.empty()) return std::vector<std::string>{};
  if (auto status = commit_pin_plan(skeleton_->obj, *pending_); !status) return status.error();
  if (xdp_) xdp_->migration_committed();
  std::vector<std::string> committed;
  for (const auto &migration : pending_->migrations) committed.push_back(migration.name);
  pending_.reset();
  return committed;
}

Result<std::size_t> Datapath::pinned_state_entries() const {
  std::size_t total = 0;
  for (const char *name : {SG_MAP_MACHINES, SG_MAP_FLYCAST, SG_MAP_NET_FLAGS}) {
    auto count = count_pinned_entries(pin_dir_ + "/" + name);
    if (!count) {
      if (count.error().code == ENOENT) continue;  // not pinned (yet): holds nothing
      return count.error();
    }
    total += *count;
  }
  return total;
}

int Datapath::program_fd(std::string_view name) const {
  if (name == kProgMachineEgress) return xdp_ ? xdp_->fd() : -1;
  const bpf_program *program =
      bpf_object__find_program_by_name(skeleton_->obj, std::string(name).c_str());
  return program != nullptr ? bpf_program__fd(program) : -1;
}

Result<std::vector<PinnedMapRef>> Datapath::pinned_map_refs() const {
  std::vector<PinnedMapRef> refs;
  const bpf_map *map = nullptr;
  bpf_object__for_each_map(map, skeleton_->obj) {
    if (bpf_map__pin_path(map) == nullptr) continue;  // not pinned (.rodata, .bss)
    auto handle = maps::MapHandle::from_bpf_map(map);
    if (!handle) return handle.error();
    refs.push_back(PinnedMapRef{bpf_map__name(map), std::move(*handle)});
  }
  return refs;
}

Result<MachineEgressAttachment> Datapath::attach_machine_egress(int ifindex) {
  if (xdp_ == nullptr) {
    auto tc = TcAttachment::attach(ifindex, TcDirection::kIngress,
                                   program_fd_of(skeleton_->progs.sg_egress_tc));
    if (!tc) return tc.error();
    // Enforcement is in place on TC: now an XDP sg_machine_egress of an earlier agent can go.
    if (auto status = XdpProgram::detach_ours(ifindex); !status) return status.error();
    return MachineEgressAttachment(std::move(*tc));
  }
  auto xdp = xdp_->attach(ifindex);
  if (!xdp) return xdp.error();
  // The reverse: our TC fallback left on clsact ingress (never an uplink program there).
  auto present = TcAttachment::query(ifindex, TcDirection::kIngress);
  if (!present) return present.error();
  if (*present && kernel_name_matches((*present)->program_name, kProgMachineEgressTc)) {
    if (auto status = TcAttachment::detach_ours(ifindex, TcDirection::kIngress); !status) {
      return status.error();
    }
  }
  return MachineEgressAttachment(std::move(*xdp));
}

Result<TcAttachment> Datapath::attach_machine_ingress(int ifindex) {
  return TcAttachment::attach(ifindex, TcDirection::kEgress,
                              program_fd_of(skeleton_->progs.sg_machine_ingress));
}

Result<TcAttachment> Datapath::attach_uplink(int ifindex) {
  auto l3 = is_l3_device(ifindex);
  if (!l3) return l3.error();
  const auto &progs = skeleton_->progs;
  return TcAttachment::attach(ifindex, TcDirection::kIngress,
                              program_fd_of(*l3 ? progs.sg_uplink_l3 : progs.sg_uplink));
}

Result<Explanation> Datapath::explain(sg_hook hook, uint32_t ifindex,
                                      std::span<const uint8_t> frame) const {
  const int fd = program_fd_of(skeleton_->progs.sg_explain);
  if (fd < 0) return make_error(std::string(kProgExplain) + ": not loaded", ENOENT);
  if (frame.size() < 14)
    return make_error("explain: frame shorter than an Ethernet header", EINVAL);
  __sk_buff context{};
  context.cb[SG_EXPLAIN_CB_HOOK] = static_cast<uint32_t>(hook);
  context.cb[SG_EXPLAIN_CB_IFINDEX] = ifindex;
  LIBBPF_OPTS(bpf_test_run_opts, opts, .data_in = frame.data(),
              .data_size_in = static_cast<__u32>(frame.size()), .ctx_in = &context,
              .ctx_size_in = sizeof(context), .repeat = 1);
  if (int err = bpf_prog_test_run_opts(fd, &opts); err != 0) {
    return make_error(std::string(kProgExplain) + ": BPF_PROG_TEST_RUN", -err);
  }
  Explanation explanation;
  explanation.hook = hook;
  explanation.raw = opts.retval;
  const uint32_t verdict = SG_EXPLAIN_VERDICT(opts.retval);
  const uint32_t reason = SG_EXPLAIN_REASON(opts.retval);
  if (verdict >= SG_VERDICT_COUNT || reason >= SG_REASON_COUNT) {
    return make_error("explain: program returned " + std::to_string(opts.retval) +
                          ", not a verdict/reason encoding",
                      EPROTO);
  }
  explanation.verdict = static_cast<sg_verdict>(verdict);
  explanation.reason = static_cast<sg_reason>(reason);
  return explanation;
}

Result<bool> is_l3_device(int ifindex) {
  char name[IF_NAMESIZE] = {};
  if (::if_indextoname(static_cast<unsigned>(ifindex), name) == nullptr) {
    return errno_error("interface " + std::to_string(ifindex));
  }
  // A socket of the calling thread's network namespace: /sys/class/net would show the
  // namespace sysfs was mounted in, not necessarily this one.
  Fd sock(::socket(AF_INET6, SOCK_DGRAM | SOCK_CLOEXEC, 0));
  if (!sock.valid()) sock.reset(::socket(AF_UNIX, SOCK_DGRAM | SOCK_CLOEXEC, 0));
  if (!sock.valid()) return errno_error("socket for SIOCGIFHWADDR");
  ifreq request{};
  std::memcpy(request.ifr_name, name, sizeof(request.ifr_name) - 1);
  if (::ioctl(sock.get(), SIOCGIFHWADDR, &request) != 0) {
    return errno_error(std::string("SIOCGIFHWADDR ") + name);
  }
  const auto type = request.ifr_hwaddr.sa_family;
  return !(type == ARPHRD_ETHER || type == ARPHRD_LOOPBACK);
}

Status uninstall_datapath(const std::string &pin_dir) {
  Status first_error;
  auto note = [&](Status status) {
    if (!status && first_error) first_error = std::move(status);
  };
  if (struct if_nameindex *interfaces = ::if_nameindex()) {
    for (auto *entry = interfaces; entry->if_index != 0; ++entry) {
      const int ifindex = static_cast<int>(entry->if_index);
      note(XdpProgram::detach_ours(ifindex));  // whichever hook machine_egress was on
      note(TcAttachment::detach_ours(ifindex, TcDirection::kEgress));
      note(TcAttachment::detach_ours(ifindex, TcDirection::kIngress));
    }
    ::if_freenameindex(interfaces);
  } else {
    note(errno_error("list interfaces"));
  }
  // Unpin: only the entries of our own pin directory, then the directory.
  if (DIR *dir = ::opendir(pin_dir.c_str())) {
    while (dirent *entry = ::readdir(dir)) {
      std::string_view name(entry->d_name);
      if (name == "." || name == "..") continue;
      std::string path = pin_dir + "/" + std::string(name);
      if (::unlink(path.c_str()) != 0 && errno != ENOENT) note(errno_error("unpin " + path));
    }
    ::closedir(dir);
    if (::rmdir(pin_dir.c_str()) != 0 && errno != ENOENT) note(errno_error("rmdir " + pin_dir));
  } else if (errno != ENOENT) {
    note(errno_error("open pin directory " + pin_dir));
  }
  return first_error;
}

}  // namespace sixguard
