// machine_egress: XDP on the host side of a machine interface, through libxdp so that other
// XDP programs on the interface coexist behind libxdp's dispatcher. Native (driver) mode is
// tried first, generic (SKB) mode where native is refused. Another program's XDP attachment
// is never removed or replaced.
//
// libxdp can only put a program into its dispatcher if it loads the program itself (as an
// freplace extension), so XdpProgram holds a second, not-yet-loaded instance of the datapath
// object with only sg_machine_egress enabled; the maps are pinned by name, so it shares the
// maps of the main object. When the kernel refuses extension programs (as in the development
// VM: EPERM for BPF_PROG_TYPE_EXT) libxdp falls back to attaching the program directly
// (XDP_FLAGS_UPDATE_IF_NOEXIST: still never clobbering a foreign program); then only one XDP
// program can be on an interface at a time.
//
// A restarted agent finding its program already on the interface adopts it when identical
// (same tag) on exactly the maps ours uses (prog_info.h: decide_adoption), and otherwise swaps in
// the new one without a window: XDP_FLAGS_REPLACE for a directly attached program,
// add-new-then-remove-old inside a dispatcher.
#pragma once

#include <array>
#include <cstddef>
#include <cstdint>
#include <memory>
#include <string>
#include <string_view>

#include "agent/datapath/attach_policy.h"
#include "agent/datapath/map_sizes.h"
#include "agent/datapath/object_setup.h"
#include "agent/datapath/prog_info.h"
#include "agent/core/result.h"

struct bpf_object;
struct xdp_program;

namespace sixguard {

enum class XdpMode { kNative, kGeneric };
std::string_view xdp_mode_name(XdpMode mode);  // "native" | "generic"

class XdpAttachment : public AttachedProgram {
 public:
  XdpMode mode() const { return mode_; }
  bool in_dispatcher() const { return dispatcher_; }  // behind libxdp's dispatcher

 private:
  friend class XdpProgram;
  XdpAttachment(int ifindex, XdpMode mode, uint32_t program_id, bool adopted, bool dispatcher,
                std::string decision);
  XdpMode mode_ = XdpMode::kNative;
  bool dispatcher_ = false;
};

// What XDP program of ours is on an interface, if any.
struct XdpPresence {
  bool attached = false;
  uint32_t program_id = 0;
  XdpMode mode = XdpMode::kNative;
  bool in_dispatcher = false;
};

// The sg_machine_egress program as libxdp handles it. One per Datapath; not movable (libxdp
// keeps pointers into it).
class XdpProgram {
 public:
  // object_bytes: the datapath ELF; pin_dir, sizes and pin_plan exactly as the main object
  // was loaded with, so that the same maps are reused.
  static Result<std::unique_ptr<XdpProgram>> open(const void *object_bytes, std::size_t size,
                                                  const std::string &pin_dir, const MapSizes &sizes,
                                                  const PinPlan &pin_plan);
  XdpProgram(const XdpProgram &) = delete;
  XdpProgram &operator=(const XdpProgram &) = delete;
  ~XdpProgram();

  // Attaches (or adopts, or replaces ours) on ifindex; see the file comment.
  Result<XdpAttachment> attach(int ifindex);

  // The migration's staging pins were renamed to their final names: a later load of this
  // instance (libxdp loads it at the first attach) must find the maps there.
  void migration_committed();

  // The loaded program's fd (libxdp's, else the plain instance's), or -1 before either loads.
  int fd() const;

  // Our XDP program on ifindex, if any (recognised by name).
  static Result<XdpPresence> query(int ifindex);
  // Removes our XDP program from ifindex if present; never touches another program.
  static Status detach_ours(int ifindex);

 private:
  XdpProgram() = default;
  // A plain XDP instance of sg_machine_egress on the same pinned maps, loaded on first need and
  // kept: what XDP_FLAGS_REPLACE swaps in for a directly attached older program of ours, and
  // what our_info() learns the tag from before libxdp has loaded program_ (the tag hashes the
  // instructions only: the same whether loaded as XDP or as libxdp's freplace component).
  // program_ cannot serve: once it joined a dispatcher on any interface it is an extension
  // program, which the kernel refuses as a direct XDP attachment (EINVAL).
  Result<int> plain_fd();
  // What our sg_machine_egress is once loaded (tag and map IDs), to recognise an identical
  // program already on an interface.
  Result<ProgramInfo> our_info();
  // Whether the program of ours attached as attached_id may stay (prog_info.h).
  Result<AdoptionDecision> adoption(uint32_t attached_id);
  // Attaches program_ directly (no dispatcher) on an interface with no XDP program, once
  // libxdp has done exactly that on another one (direct_attach_).
  Result<XdpAttachment> attach_directly(int ifindex, const std::string &label);
  bpf_object *object_ = nullptr;
  xdp_program *program_ = nullptr;
  const void *object_bytes_ = nullptr;  // embedded in the binary: lives as long as we do
  std::size_t object_size_ = 0;
  std::string pin_dir_;
  MapSizes sizes_;
  PinPlan pin_plan_;
  std::unique_ptr<bpf_object, void (*)(bpf_object *)> plain_{nullptr, nullptr};
  // libxdp attached program_ directly rather than in a dispatcher (this kernel refuses the
  // dispatcher's freplace components). It would do the same on every other interface, after
  // loading and verifying a dispatcher and its compatibility probe again each time.
  bool direct_attach_ = false;
};

}  // namespace sixguard
