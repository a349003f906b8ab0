#include "agent/datapath/xdp_attachment.h"

#include <net/if.h>  // before any linux/ header: both define struct ifreq

#include <bpf/bpf.h>
#include <bpf/libbpf.h>
#include <linux/if_link.h>
#include <xdp/libxdp.h>

#include <cerrno>
#include <cstring>
#include <utility>

#include "agent/datapath/link_xdp.h"
#include "agent/datapath/object_setup.h"
#include "agent/datapath/prog_info.h"
#include "agent/datapath/program_names.h"

namespace sixguard {
namespace {

std::string interface_label(int ifindex) {
  char name[IF_NAMESIZE] = {};
  if (::if_indextoname(static_cast<unsigned>(ifindex), name) != nullptr) return name;
  return "ifindex " + std::to_string(ifindex);
}

// By name, not through the skeleton: XdpProgram also opens other builds' objects (the older
// datapath of the upgrade test, tests/fixtures), whose programs carry the same names.
const bpf_program *machine_egress_of(const bpf_object *object) {
  return bpf_object__find_program_by_name(object, std::string(kProgMachineEgress).c_str());
}

bool is_ours(const xdp_program *program) {
  const char *name = xdp_program__name(program);
  return name != nullptr && kernel_name_matches(name, kProgMachineEgress);
}

XdpMode mode_of(const xdp_multiprog *multiprog) {
  return xdp_multiprog__attach_mode(multiprog) == XDP_MODE_SKB ? XdpMode::kGeneric
                                                               : XdpMode::kNative;
}

uint32_t mode_flag(XdpMode mode) {
  return mode == XdpMode::kGeneric ? XDP_FLAGS_SKB_MODE : XDP_FLAGS_DRV_MODE;
}

// The multiprog view of an interface, closed on scope exit; null when nothing is attached.
struct Multiprog {
  xdp_multiprog *value = nullptr;
  ~Multiprog() {
    if (value != nullptr) xdp_multiprog__close(value);
  }
};

Status get_multiprog(int ifindex, Multiprog &out) {
  xdp_multiprog *multiprog = xdp_multiprog__get_from_ifindex(ifindex);
  long err = libxdp_get_error(multiprog);
  if (err == -ENOENT || (err == 0 && multiprog == nullptr)) return {};  // nothing attached
  if (err != 0) {
    return make_error("xdp on " + interface_label(ifindex) + ": query", static_cast<int>(-err));
  }
  out.value = multiprog;
  return {};
}

// Our program on the interface: the legacy (directly attached) one or a dispatcher component.
const xdp_program *find_ours(const xdp_multiprog *multiprog) {
  if (xdp_multiprog__is_legacy(multiprog)) {
    const xdp_program *main = xdp_multiprog__main_prog(multiprog);
    return main != nullptr && is_ours(main) ? main : nullptr;
  }
  for (xdp_program *p = xdp_multiprog__next_prog(nullptr, multiprog); p != nullptr;
       p = xdp_multiprog__next_prog(p, multiprog)) {
    if (is_ours(p)) return p;
  }
  return nullptr;
}

}  // namespace

std::string_view xdp_mode_name(XdpMode mode) {
  return mode == XdpMode::kGeneric ? "generic" : "native";
}

Result<std::unique_ptr<XdpProgram>> XdpProgram::open(const void *object_bytes, std::size_t size,
                                                     const std::string &pin_dir,
                                                     const MapSizes &sizes,
                                                     const PinPlan &pin_plan) {
  std::unique_ptr<XdpProgram> program(new XdpProgram());
  auto object = open_datapath_object(object_bytes, size, pin_dir, "sixguard_xdp");
  if (!object) return object.error();
  program->object_ = *object;
  if (auto status = apply_map_sizes(program->object_, sizes); !status) return status.error();
  if (auto status = apply_pin_plan(program->object_, pin_plan); !status) return status.error();
  if (auto status = enable_only(program->object_, {machine_egress_of(program->object_)}); !status) {
    return status.error();
  }
  xdp_program *xdp = xdp_program__from_bpf_obj(program->object_, "xdp");
  if (long err = libxdp_get_error(xdp); err != 0 || xdp == nullptr) {
    return make_error("libxdp: program " + std::string(kProgMachineEgress),
                      err != 0 ? static_cast<int>(-err) : ENOENT);
  }
  program->program_ = xdp;
  program->object_bytes_ = object_bytes;
  program->object_size_ = size;
  program->pin_dir_ = pin_dir;
  program->sizes_ = sizes;
  program->pin_plan_ = pin_plan;
  return program;
}

XdpProgram::~XdpProgram() {
  // The program stays loaded as long as an interface holds it; closing only drops our fds.
  if (program_ != nullptr) xdp_program__close(program_);
  if (object_ != nullptr) bpf_object__close(object_);
}

void XdpProgram::migration_committed() {
  for (const auto &migration : pin_plan_.migrations) {
    if (bpf_map *map = bpf_object__find_map_by_name(object_, migration.name.c_str())) {
      (void)bpf_map__set_pin_path(map, pin_plan_.final_path(migration.name).c_str());
    }
  }
  pin_plan_.migrations.clear();
}

int XdpProgram::fd() const {
  const int libxdp_fd = program_ != nullptr ? xdp_program__fd(program_) : -1;
  if (libxdp_fd >= 0) return libxdp_fd;
  return plain_ != nullptr ? bpf_program__fd(machine_egress_of(plain_.get())) : -1;
}

Result<int> XdpProgram::plain_fd() {
  if (plain_ != nullptr) return bpf_program__fd(machine_egress_of(plain_.get()));
  auto opened = open_datapath_object(object_bytes_, object_size_, pin_dir_, "sixguard_xdp_plain");
  if (!opened) return opened.error();
  std::unique_ptr<bpf_object, void (*)(bpf_object *)> plain(*opened, bpf_object__close);
  if (auto status = apply_map_sizes(plain.get(), sizes_); !status) return status.error();
  if (auto status = apply_pin_plan(plain.get(), pin_plan_); !status) return status.error();
  if (auto status = enable_only(plain.get(), {machine_egress_of(plain.get())}); !status) {
    return status.error();
  }
  if (int err = bpf_object__load(plain.get()); err != 0) {
    return make_error("load " + std::string(kProgMachineEgress) + " as a plain XDP program", -err);
  }
  const bpf_program *loaded = machine_egress_of(plain.get());
  if (loaded == nullptr) return make_error(std::string(kProgMachineEgress) + ": absent", ENOENT);
  plain_ = std::move(plain);
  return bpf_program__fd(loaded);
}

Result<ProgramInfo> XdpProgram::our_info() {
  if (int loaded = fd(); loaded >= 0) return program_info_by_fd(loaded);
  auto plain = plain_fd();
  if (!plain) return plain.error();
  return program_info_by_fd(*plain);
}

Result<AdoptionDecision> XdpProgram::adoption(uint32_t attached_id) {
  auto ours = our_info();
  if (!ours) return ours.error();
  auto attached = program_info_by_id(attached_id);
  if (!attached) return attached.error();
  return decide_adoption(*attached, *ours);
}

Result<XdpAttachment> XdpProgram::attach(int ifindex) {
  const std::string label = "xdp on " + interface_label(ifindex);
  // The common case, a new machine's interface, without libxdp's query (a dump of every link).
  auto link = query_link_xdp(ifindex);
  if (!link) return link.error();
  Multiprog current;
  if (link->attach_mode != XDP_ATTACHED_NONE) {
    if (auto status = get_multiprog(ifindex, current); !status) return status.error();
  }

  if (current.value != nullptr) {
    const xdp_program *ours = find_ours(current.value);
    const bool legacy = xdp_multiprog__is_legacy(current.value);
    const XdpMode mode = mode_of(current.value);
    if (legacy && ours == nullptr) {
      const xdp_program *foreign = xdp_multiprog__main_prog(current.value);
      return make_error(label + ": another XDP program (" +
                            std::string(foreign ? xdp_program__name(foreign) : "?") + ", id " +
                            std::to_string(foreign ? xdp_program__id(foreign) : 0) +
                            ") is attached without libxdp's dispatcher; sixguard does not " +
                            "replace it",
                        EBUSY);
    }
    if (ours != nullptr && legacy) {
      // Ours, attached directly: adopt if identical, else swap atomically.
      auto decision = adoption(xdp_program__id(ours));
      if (!decision) return decision.error();
      if (decision->adopt) {
        return XdpAttachment(ifindex, mode, xdp_program__id(ours), true, false,
                             "adopted: " + decision->why);
      }
      auto plain = plain_fd();
      if (!plain) return plain.error();
      auto plain_info = program_info_by_fd(*plain);
      if (!plain_info) return plain_info.error();
      LIBBPF_OPTS(bpf_xdp_attach_opts, opts, .old_prog_fd = xdp_program__fd(ours));
      if (int err = bpf_xdp_attach(ifindex, *plain, XDP_FLAGS_REPLACE | mode_flag(mode), &opts);
          err != 0) {
        return make_error(label + ": replace our program", -err);
      }
      return XdpAttachment(ifindex, mode, plain_info->id, false, false,
                           "replaced atomically (XDP_FLAGS_REPLACE): " + decision->why);
    }
    if (ours != nullptr) {
      // Ours, inside a dispatcher: adopt if identical, else add the new one, then remove the
      // old one (both enforce the same maps meanwhile).
      uint32_t old_id = xdp_program__id(ours);
      auto decision = adoption(old_id);
      if (!decision) return decision.error();
      if (decision->adopt) {
        return XdpAttachment(ifindex, mode, old_id, true, true, "adopted: " + decision->why);
      }
      if (int err =
              xdp_program__attach(program_, ifindex, xdp_multiprog__attach_mode(current.value), 0);
          err != 0) {
        return make_error(label + ": add new program to dispatcher", -err);
      }
      xdp_program *old = xdp_program__from_id(old_id);
      if (libxdp_get_error(old) == 0 && old != nullptr) {
        int err = xdp_program__detach(old, ifindex, xdp_multiprog__attach_mode(current.value), 0);
        xdp_program__close(old);
        if (err != 0) return make_error(label + ": remove previous program from dispatcher", -err);
      }
      return XdpAttachment(
          ifindex, mode, xdp_program__id(program_), false, true,
          "replaced in libxdp's dispatcher (new added, then old removed): " + decision->why);
    }
    // A dispatcher with only foreign programs: join it in the same mode.
    if (int err =
            xdp_program__attach(program_, ifindex, xdp_multiprog__attach_mode(current.value), 0);
        err != 0) {
      return make_error(label + ": join libxdp dispatcher", -err);
    }
    return XdpAttachment(ifindex, mode, xdp_program__id(program_), false, true,
                         "attached: joined libxdp's dispatcher");
  }

  // Nothing attached: native first, generic where the driver refuses native.
  if (direct_attach_) return attach_directly(ifindex, label);
  int err = xdp_program__attach(program_, ifindex, XDP_MODE_NATIVE, 0);
  if (err != 0) {
    int generic = xdp_program__attach(program_, ifindex, XDP_MODE_SKB, 0);
    if (generic != 0) {
      return make_error(label + ": attach (native: " + std::strerror(-err) + "; generic)",
                        -generic);
    }
  }
  auto presence = query(ifindex);
  if (!presence) return presence.error();
  if (!presence->attached) return make_error(label + ": attached but not found", ENOENT);
  // A direct attach of program_ itself: what libxdp will do on this kernel every time, after
  // loading a dispatcher, its test program and libbpf's feature probes again (160 of the 172
  // BPF_PROG_LOADs of an agent attaching 25 machines; issue 14's attach cost).
  if (!presence->in_dispatcher && presence->program_id == xdp_program__id(program_)) {
    direct_attach_ = true;
  }
  return XdpAttachment(ifindex, presence->mode, presence->program_id, false,
                       presence->in_dispatcher, "attached: nothing of ours was there");
}

Result<XdpAttachment> XdpProgram::attach_directly(int ifindex, const std::string &label) {
  // program_ is loaded as a plain XDP program (libxdp attached it directly). Without
  // UPDATE_IF_NOEXIST a program attached since our query would be replaced: it stays instead,
  // and this attach fails; the next attempt's query finds it and says what it is.
  const int fd = xdp_program__fd(program_);
  XdpMode mode = XdpMode::kNative;
  int err = bpf_xdp_attach(ifindex, fd, XDP_FLAGS_UPDATE_IF_NOEXIST | mode_flag(mode), nullptr);
  if (err != 0) {
    mode = XdpMode::kGeneric;
    if (int generic =
            bpf_xdp_attach(ifindex, fd, XDP_FLAGS_UPDATE_IF_NOEXIST | mode_flag(mode), nullptr);
        generic != 0) {
      return make_error(label + ": attach directly (native: " + std::strerror(-err) + "; generic)",
                        -generic);
    }
  }
  return XdpAttachment(ifindex, mode, xdp_program__id(program_), false, false,
                       "attached: nothing of ours was there (directly, as libxdp did before on "
                       "this kernel)");
}

Result<XdpPresence> XdpProgram::query(int ifindex) {
  auto link = query_link_xdp(ifindex);
  if (!link) return link.error();
  XdpPresence presence;
  if (link->attach_mode == XDP_ATTACHED_NONE) return presence;
  // One program attached directly: ours is recognised by its name, as find_ours does. A
  // dispatcher, another program, or several modes at once: libxdp's view.
  if ((link->attach_mode == XDP_ATTACHED_DRV || link->attach_mode == XDP_ATTACHED_SKB) &&
      link->prog_id != 0) {
    auto info = program_info_by_id(link->prog_id);
    if (info && kernel_name_matches(info->name, kProgMachineEgress)) {
      presence.attached = true;
      presence.program_id = link->prog_id;
      presence.mode = link->attach_mode == XDP_ATTACHED_SKB ? XdpMode::kGeneric : XdpMode::kNative;
      return presence;
    }
  }
  Multiprog current;
  if (auto status = get_multiprog(ifindex, current); !status) return status.error();
  if (current.value == nullptr) return presence;
  const xdp_program *ours = find_ours(current.value);
  if (ours == nullptr) return presence;
  presence.attached = true;
  presence.program_id = xdp_program__id(ours);
  presence.mode = mode_of(current.value);
  presence.in_dispatcher = !xdp_multiprog__is_legacy(current.value);
  return presence;
}

Status XdpProgram::detach_ours(int ifindex) {
  const std::string label = "xdp on " + interface_label(ifindex);
  Multiprog current;
  if (auto status = get_multiprog(ifindex, current); !status) return status;
  if (current.value == nullptr) return {};
  const xdp_program *ours = find_ours(current.value);
  if (ours == nullptr) return {};
  if (xdp_multiprog__is_legacy(current.value)) {
    // Only if it is still exactly our program (XDP_FLAGS_REPLACE + old fd): never a program
    // that replaced ours meanwhile.
    LIBBPF_OPTS(bpf_xdp_attach_opts, opts, .old_prog_fd = xdp_program__fd(ours));
    int err = bpf_xdp_detach(ifindex, XDP_FLAGS_REPLACE | mode_flag(mode_of(current.value)), &opts);
    if (err != 0) return make_error(label + ": detach", -err);
    return {};
  }
  xdp_program *component = xdp_program__from_id(xdp_program__id(ours));
  if (long err = libxdp_get_error(component); err != 0 || component == nullptr) {
    return make_error(label + ": open our dispatcher component",
                      err != 0 ? static_cast<int>(-err) : ENOENT);
  }
  int err = xdp_program__detach(component, ifindex, xdp_multiprog__attach_mode(current.value), 0);
  xdp_program__close(component);
  if (err != 0) return make_error(label + ": detach from dispatcher", -err);
  return {};
}

XdpAttachment::XdpAttachment(int ifindex, XdpMode mode, uint32_t program_id, bool adopted,
                             bool dispatcher, std::string decision)
    : AttachedProgram(
          DetachDuty(ifindex, 0, [](int on, int) { return XdpProgram::detach_ours(on); }),
          program_id, adopted, std::move(decision)),
      mode_(mode),
      dispatcher_(dispatcher) {}

}  // namespace sixguard
