#include "agent/daemon/datapath_service.h"

#include "agent/datapath/datapath.h"
#include "agent/datapath/pinned_map_backend.h"

namespace sixguard::daemon {

struct DatapathService::Impl {
  std::unique_ptr<Datapath> datapath;
  std::unique_ptr<PinnedMapBackend> backend;
  std::string bpffs;
  std::vector<PinnedMapRef> pinned;  // taken at load: our own fds on every pinned map
};

namespace {

DatapathOptions options_from(const AgentConfig &config) {
  DatapathOptions options;
  options.bpffs = config.bpffs;
  options.pin_subdir = "sixguard";
  options.sizes = config.map_sizes;
  options.egress_hook = config.machine_egress_hook;
  return options;
}

}  // namespace

DatapathService::DatapathService(std::unique_ptr<Impl> impl) : impl_(std::move(impl)) {}
DatapathService::~DatapathService() = default;

Result<std::unique_ptr<DatapathService>> DatapathService::load(const AgentConfig &config) {
  auto datapath = Datapath::load(options_from(config));
  if (!datapath) return datapath.error();
  auto impl = std::make_unique<Impl>();
  impl->datapath = std::move(*datapath);
  // The owner slots are a cache the agent alone vouches for: emptied before anything is
  // attached, so a slot written by an earlier agent cannot outlive it. A downgrade to a build
  // that never wrote them leaves slots that contradict sg_machines, and the reconcile that
  // clears wrong slots may fail. Until the reconcile refills them, programs ask the hash.
  impl->datapath->maps().owner_slots.clear_all();
  impl->backend = std::make_unique<PinnedMapBackend>(impl->datapath->maps());
  impl->bpffs = config.bpffs;
  auto pinned = impl->datapath->pinned_map_refs();
  if (!pinned) return pinned.error();
  impl->pinned = std::move(*pinned);
  return std::unique_ptr<DatapathService>(new DatapathService(std::move(impl)));
}

const std::string &DatapathService::pin_dir() const {
  return impl_->datapath->pin_dir();
}
MapBackend &DatapathService::map_backend() {
  return *impl_->backend;
}

std::string_view DatapathService::machine_egress_hook() const {
  return egress_hook_name(impl_->datapath->egress_hook().hook);
}
const std::string &DatapathService::machine_egress_hook_reason() const {
  return impl_->datapath->egress_hook().reason;
}
const std::vector<std::string> &DatapathService::migration_notes() const {
  return impl_->datapath->migration_notes();
}
bool DatapathService::migration_pending() const {
  return impl_->datapath->migration_pending();
}
Result<std::size_t> DatapathService::pinned_state_entries() const {
  return impl_->datapath->pinned_state_entries();
}
Result<std::vector<std::string>> DatapathService::commit_migration() {
  return impl_->datapath->commit_migration();
}

Result<MachineEgressAttachment> DatapathService::attach_machine_egress(int ifindex) {
  return impl_->datapath->attach_machine_egress(ifindex);
}
Result<TcAttachment> DatapathService::attach_machine_ingress(int ifindex) {
  return impl_->datapath->attach_machine_ingress(ifindex);
}
Result<TcAttachment> DatapathService::attach_uplink(int ifindex) {
  return impl_->datapath->attach_uplink(ifindex);
}

PinRepair DatapathService::repair_pins() {
  return sixguard::repair_pins(impl_->bpffs, impl_->datapath->pin_dir(), impl_->pinned);
}

Result<Explanation> DatapathService::explain(sg_hook hook, uint32_t ifindex,
                                             std::span<const uint8_t> frame) {
  return impl_->datapath->explain(hook, ifindex, frame);
}

Result<maps::MapHandle> DatapathService::events_map() const {
  return impl_->datapath->maps().events.duplicate();
}

Status uninstall_datapath_programs(const AgentConfig &config) {
  return uninstall_datapath(config.pin_dir());
}

}  // namespace sixguard::daemon
