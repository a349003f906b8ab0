#include "agent/daemon/daemon.h"

#include <poll.h>
#include <signal.h>
#include <sys/stat.h>
#include <sys/eventfd.h>
#include <sys/signalfd.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

#include <algorithm>
#include <chrono>
#include <filesystem>
#include <set>

#include "agent/api/api_routes.h"
#include "agent/daemon/attachments.h"
#include "agent/daemon/batch_log.h"
#include "agent/datapath/bpffs.h"
#include "agent/control/control_plane.h"
#include "agent/daemon/datapath_service.h"
#include "agent/source/etcd_source.h"
#include "agent/control/desired_maps.h"
#include "agent/daemon/drift_checker.h"
#include "exporter/exporter.h"
#include "agent/core/fd.h"
#include "agent/api/http_server.h"
#include "agent/daemon/instance_lock.h"
#include "agent/daemon/interface_resolver_impl.h"
#include "agent/daemon/link_watcher.h"
#include "agent/daemon/log.h"
#include "agent/datapath/names.h"
#include "exporter/metrics_server.h"
#include "agent/daemon/monitor_hub.h"
#include "exporter/pinned_sources.h"
#include "agent/daemon/providers_impl.h"
#include "agent/api/router.h"
#include "exporter/source_collector.h"
#include "agent/daemon/systemd_notify.h"

namespace sixguard::daemon {
namespace {

constexpr auto kRetryInterval = std::chrono::seconds(5);  // failed reconcile/attach retried
// state.db's identity (deleted, replaced) is checked this often besides before every commit;
// its integrity (PRAGMA quick_check on what is on disk) less often, and on SIGHUP.
constexpr int kStoreCheckIntervalMs = 1000;
constexpr auto kIntegrityInterval = std::chrono::seconds(30);
constexpr const char *kStateCondition = "state";

bool socket_answers(const std::string &path);

// SIGTERM, SIGINT (stop) and SIGHUP (check now, DESIGN §5) as a readable fd. Blocked before
// any thread starts, so every thread inherits the mask and only the main loop ever sees them;
// SIGHUP's default action (terminate, leaving the socket file behind) can never run.
Result<Fd> open_signal_fd() {
  sigset_t signals;
  sigemptyset(&signals);
  sigaddset(&signals, SIGTERM);
  sigaddset(&signals, SIGINT);
  sigaddset(&signals, SIGHUP);
  if (::pthread_sigmask(SIG_BLOCK, &signals, nullptr) != 0) {
    return errno_error("blocking SIGTERM/SIGINT/SIGHUP");
  }
  ::signal(SIGPIPE, SIG_IGN);  // a client that hangs up must not kill the agent
  Fd fd(::signalfd(-1, &signals, SFD_CLOEXEC | SFD_NONBLOCK));
  if (!fd.valid()) return errno_error("signalfd");
  return fd;
}

// The whole running agent. Members are declared in start-up order, so they are destroyed in
// the reverse order: the servers stop before what they serve goes away.
class Agent {
 public:
  Agent(const AgentConfig &config, const AgentOptions &options)
      : config_(config), options_(options) {}
  int run();

 private:
  Status start();
  // One agent per state: the locks on state_dir and on the pin directory (created if need be).
  Status take_locks();
  // Refuses (refused_) an empty or missing persisted state while the pinned maps hold
  // entries: reconciling would remove every one of them. Called before state.db is opened
  // when it is missing or 0 bytes (a refusal then leaves nothing behind), and after it is
  // loaded when it holds no rows.
  Status check_state_against_maps(const std::string &why_empty);
  void serve();
  // SIGHUP: state.db checked (identity and integrity), then a drift check.
  void check_now();
  // A drift check (drift_checker.h): pins, then map entries, then attachments, each
  // difference repaired, logged and counted. Never stops the agent.
  void check_drift(std::string_view trigger);
  // The state database's health into readiness and the log (ERROR on a fault).
  void on_store_health(const StateStore::Health &health);
  // Attaches every machine interface that exists and is not attached yet (its sg_machines
  // entry written first), every uplink, and detaches interfaces no machine owns any more
  // (machine.stopped). Updates readiness.
  void sync_attachments();
  // The same for the interfaces a batch touched only, so that the cost of a batch follows
  // the batch; anything that fails falls back to the full sweep (which decides readiness).
  void sync_changed(const std::vector<std::string> &names);
  // Writes the interface's sg_machines entry if its ifindex changed, then attaches.
  Status attach_machine(const MachineInfo &machine, uint32_t ifindex);
  void on_link_change(const LinkChange &change);
  bool is_machine_interface(const std::string &name) const;
  bool is_uplink(const std::string &name) const;
  // Readiness as it is now, to systemd (READY=1 the first time it is ready).
  void notify_readiness();

  const AgentConfig &config_;
  const AgentOptions &options_;
  bool refused_ = false;  // start() refused for safety: exit_code::kAgentRefused
  // Declared first, so released last: nothing of ours runs without them held.
  std::optional<InstanceLock> state_lock_;
  std::optional<InstanceLock> pin_lock_;
  Fd signals_;
  Fd wakeup_;  // eventfd: a batch changed the machines (written from the API's thread)
  exporter::Exporter exporter_;
  BatchLogObserver batch_log_{exporter_.observer()};  // metrics, and a log line per batch
  std::unique_ptr<DatapathService> datapath_;
  std::optional<AttachmentRegistry> attachments_;
  std::optional<LinkWatcher> links_;
  KernelInterfaceResolver resolver_;
  std::unique_ptr<ControlPlane> control_;
  // DESIGN §6: set in etcd mode; stopped (its thread joined) before the control plane goes.
  std::unique_ptr<EtcdSource> source_;
  bool reconciled_ = false;
  bool listening_ = false;    // API and metrics up: the last condition for readiness
  bool swept_ready_ = false;  // the last sweep found nothing amiss (logged on change)
  std::shared_ptr<exporter::MapStatsSource> map_stats_;
  std::unique_ptr<DriftChecker> drift_;
  std::unique_ptr<DaemonStatus> status_;
  std::unique_ptr<DaemonExplainer> explainer_;
  std::unique_ptr<MonitorHub> monitor_;
  Router api_router_;
  std::unique_ptr<HttpServer> api_server_;
  std::unique_ptr<exporter::MetricsServer> metrics_server_;
  std::unique_ptr<exporter::MetricsServer> health_server_;  // the probes' own listener
  SystemdNotifier systemd_;
};

void Agent::notify_readiness() {
  const auto readiness = exporter_.readiness().get();
  systemd_.readiness(readiness.ready, readiness.reason);
}

int Agent::run() {
  if (auto status = start(); !status) {
    // A refusal's message says everything; the errno behind it (EWOULDBLOCK) adds nothing.
    log_error("agent", refused_ ? "refusing to start: " + status.error().message
                                : "cannot start: " + status.error().describe());
    return refused_ ? exit_code::kAgentRefused : exit_code::kAgentFailed;
  }
  serve();
  // Servers stop in the destructors; the attachment objects leave programs attached.
  log_info("agent", "stopped; programs stay attached and maps pinned under " + config_.pin_dir());
  return exit_code::kOk;
}

// Start-up order. This order is a security property, not a convenience:
//  1. bpffs mounted (if missing) and programs loaded, REUSING the pinned maps: the programs
//     still attached from a previous run keep enforcing with the same maps throughout.
//  2. state.db opened: the persisted state is the truth the maps are brought back to.
//  3. maps reconciled to the state BY DIFFERENCE (never flushed and refilled: a flush would
//     open a window in which attached programs see no entries), sg_config written with it.
//  4. programs attached to every known machine interface that exists - each interface's
//     sg_machines entry is present BEFORE its program is attached - and to the uplinks.
//  5. only then the API (Unix socket) and metrics (TCP) listen; /readyz answers 200 once 3
//     and 4 succeeded for everything that exists.
// Interfaces that appear later are handled by the netlink watcher (opened before step 2, so
// no change is missed): entry first, then attach.
Status Agent::start() {
  // Signals first: from here on SIGHUP and SIGTERM wait for serve() instead of killing us
  // half-started (SIGHUP's default action would).
  auto signals = open_signal_fd();
  if (!signals) return signals.error();
  signals_ = std::move(*signals);
  // Two agents on one state or one pin directory would fight over the same maps, and both
  // hand out the same app IDs: the locks first, before anything is read or written.
  if (auto status = take_locks(); !status) return status;
  // Two agents with different state and pins would still fight over the interfaces.
  if (socket_answers(config_.api_socket)) {
    return make_error("another agent answers on " + config_.api_socket);
  }
  wakeup_ = Fd(::eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK));
  if (!wakeup_.valid()) return errno_error("eventfd");
  exporter_.readiness().set_not_ready("loading the datapath");

  log_info("agent", "configuration: " + config_.source + "; mode " +
                        std::string(name_of(kEnforcementModeNames, config_.mode)) + "; pins " +
                        config_.pin_dir());
  // 1. datapath
  auto datapath = DatapathService::load(config_);
  if (!datapath) return datapath.error();
  datapath_ = std::move(*datapath);
  attachments_.emplace(*datapath_);
  log_info("datapath", "programs loaded, maps pinned in " + datapath_->pin_dir() +
                           "; machine_egress on " + std::string(datapath_->machine_egress_hook()) +
                           " (" + datapath_->machine_egress_hook_reason() + ")");
  for (const auto &note : datapath_->migration_notes()) {
    log_warn("datapath", "migrating pinned map " + note +
                             ": the attached programs keep the old map until the new programs "
                             "replace them atomically, then the new map's pin replaces the old");
  }

  auto links = LinkWatcher::open([this](const LinkChange &change) { on_link_change(change); },
                                 [this] { sync_attachments(); });
  if (!links) return links.error();
  links_.emplace(std::move(*links));

  // 2. state
  {
    struct stat st {};
    if (::stat(config_.state_db_path().c_str(), &st) != 0) {
      if (auto status = check_state_against_maps("it is missing"); !status) return status;
    } else if (st.st_size == 0) {
      if (auto status = check_state_against_maps("it is 0 bytes"); !status) return status;
    }
  }
  ControlConfig control_config;
  control_config.state_dir = config_.state_dir;
  control_config.infra_prefixes = config_.infra_prefixes;
  control_config.global_audit = config_.mode == EnforcementMode::kAudit;
  control_config.events_per_sec = config_.events_per_second;
  control_config.events_burst = config_.events_burst;
  control_config.encap_udp_ports = config_.encap_udp_ports;
  control_config.uplinks = config_.uplinks;
  exporter_.readiness().set_not_ready("loading state");
  auto control =
      ControlPlane::open(control_config, datapath_->map_backend(), resolver_, batch_log_);
  if (!control) {
    if (control.error().code != EUCLEAN) return control.error();
    // Corrupt: starting would be reconciling the maps to garbage, or to nothing.
    refused_ = true;
    return make_error("the state database is corrupt (" + control.error().describe() +
                      "). The enforcement in place is left untouched. To recover: restore " +
                      config_.state_db_path() +
                      " from a backup (or a state.db.recovered-* an agent saved) and start "
                      "again");
  }
  control_ = std::move(*control);
  // Before the maps are touched: the programs attached from the previous run keep enforcing
  // with the maps as they were until the operator fixes the configuration.
  if (auto status = control_->check_configuration(); !status) {
    refused_ = true;  // the configuration contradicts the persisted state
    return status.error();
  }
  const auto counts = control_->counts();
  log_info("state", "loaded " + config_.state_db_path() + ": " + std::to_string(counts.networks) +
                        " networks, " + std::to_string(counts.apps) + " apps, " +
                        std::to_string(counts.machines) + " machines, " +
                        std::to_string(counts.flycast) + " flycast addresses");
  if (counts.networks == 0 && counts.apps == 0 && counts.machines == 0 && counts.flycast == 0) {
    if (auto status = check_state_against_maps("it holds no rows"); !status) return status;
  }
  control_->set_store_listener(
      [this](const StateStore::Health &health) { on_store_health(health); });

  // 3. maps <- state, by difference (also writes sg_config)
  if (auto status = control_->reconcile(); !status) {
    // Mid-migration the new maps are not yet in use: attaching programs on maps the state
    // could not fill would make machines fail closed. Stop instead; the old programs keep
    // enforcing with the old maps, and the next start tries again.
    if (datapath_->migration_pending()) {
      return make_error(
          "migrating the pinned maps: filling the new maps from the state "
          "failed (" +
          status.error().describe() +
          "); nothing was replaced: the attached programs keep enforcing with "
          "the old maps");
    }
    // Not fatal: what is attached keeps enforcing with the maps as they are; not ready, and
    // retried. (A full map, for instance, needs an operator, not a restart loop.)
    log_error("state", "reconciling maps to state: " + status.error().describe());
  } else {
    reconciled_ = true;
    log_info("state", "maps reconciled to state");
  }

  // 4. attachments
  sync_attachments();
  // A migration (resize, another layout): every interface now runs the new programs on the
  // new maps, so the new maps' pins can replace the old ones; the old maps go with the last
  // program that used them.
  if (datapath_->migration_pending()) {
    auto committed = datapath_->commit_migration();
    if (!committed) return committed.error();
    std::string names;
    for (const auto &name : *committed) names += (names.empty() ? "" : ", ") + name;
    log_info("datapath", "migration done: the pins of " + names +
                             " now name the new maps; the old maps are released with the "
                             "programs that were replaced");
  }
  control_->set_machines_listener([this] {
    const uint64_t one = 1;
    [[maybe_unused]] auto written = ::write(wakeup_.get(), &one, sizeof(one));
  });

  // 5. API and metrics
  auto pinned_stats = exporter::PinnedMapStatsSource::open(datapath_->pin_dir());
  if (pinned_stats) {
    map_stats_ = *pinned_stats;
    exporter_.set_map_stats_source(map_stats_);
  } else {
    log_warn("metrics", "map statistics unavailable: " + pinned_stats.error().describe());
  }
  if (auto counters = exporter::PinnedCounterSource::open(datapath_->pin_dir())) {
    exporter_.set_counter_source(*counters);
  } else {
    log_warn("metrics", "verdict counters unavailable: " + counters.error().describe());
  }
  exporter_.set_attachment_source(std::make_shared<exporter::FunctionAttachmentSource>(
      [this] { return attachments_->counts(); }));

  status_ =
      std::make_unique<DaemonStatus>(config_, *attachments_, exporter_.readiness(), map_stats_,
                                     DatapathSummary{std::string(datapath_->machine_egress_hook()),
                                                     datapath_->machine_egress_hook_reason()});
  drift_ = std::make_unique<DriftChecker>(*control_, datapath_->map_backend(), exporter_.drift());
  status_->set_drift_checker(drift_.get());
  explainer_ = std::make_unique<DaemonExplainer>(*datapath_, *control_);
  if (auto events = datapath_->events_map()) {
    if (auto hub = MonitorHub::start(std::move(*events))) {
      monitor_ = std::move(*hub);
    } else {
      log_warn("monitor", "drop events unavailable: " + hub.error().describe());
    }
  } else {
    log_warn("monitor", "drop events unavailable: " + events.error().describe());
  }
  ApiProviders providers;
  providers.status = status_.get();
  providers.explainer = explainer_.get();
  providers.monitor = monitor_.get();
  if (config_.etcd) {
    const auto &etcd = *config_.etcd;
    EtcdSourceSettings settings;
    settings.endpoints = etcd.endpoints;
    settings.prefix = etcd.prefix;
    settings.host = etcd.host;
    if (etcd.tls) settings.tls = etcd::TlsFiles{etcd.tls->ca, etcd.tls->cert, etcd.tls->key};
    auto source = EtcdSource::create(std::move(settings), *control_,
                                     [](bool warning, const std::string &message) {
                                       if (warning) {
                                         log_warn("source", message);
                                       } else {
                                         log_info("source", message);
                                       }
                                     });
    if (!source) return make_error("source.etcd: " + source.error().describe());
    source_ = std::move(*source);
    exporter_.add_collectable(std::make_shared<exporter::SourceCollector>([source = source_.get()] {
      const EtcdSourceStatus status = source->status();
      return exporter::SourceStats{status.revision, status.connected, status.resyncs,
                                   status.invalid_keys_total, status.invalid_keys.size()};
    }));
    std::string endpoints;
    for (const auto &url : etcd.endpoints) endpoints += (endpoints.empty() ? "" : ",") + url;
    providers.events_owned_by =
        "etcd (" + endpoints + ", prefix " + etcd.prefix + ", host " + etcd.host + ")";
    providers.source_status = [source = source_.get()] { return source->status_json(); };
  }
  register_api_routes(api_router_, *control_, providers);
  HttpServerOptions api_options;
  api_options.warn = [](const std::string &message) { log_warn("api", message); };
  api_server_ = std::make_unique<HttpServer>(api_router_, api_options);
  if (auto status = api_server_->listen_unix(config_.api_socket); !status) {
    return Error{status.error().code,
                 "API socket " + config_.api_socket + ": " + status.error().message};
  }
  if (auto status = api_server_->start(); !status) return status.error();
  log_info("api", "listening on " + config_.api_socket);

  auto listener_options = [](exporter::Endpoints endpoints, const char *component) {
    HttpServerOptions options = exporter::listener_options(endpoints);
    options.warn = [component](const std::string &message) { log_warn(component, message); };
    return options;
  };
  auto metrics = exporter::MetricsServer::start(
      exporter_, config_.metrics_address, exporter::Endpoints::kMetrics,
      listener_options(exporter::Endpoints::kMetrics, "metrics"));
  if (!metrics) return metrics.error();  // already names metrics_address
  metrics_server_ = std::move(*metrics);
  log_info("metrics", "listening on " + config_.metrics_address + " (port " +
                          std::to_string(metrics_server_->port()) + ")");
  auto health = exporter::MetricsServer::start(
      exporter_, config_.health_address, exporter::Endpoints::kHealth,
      listener_options(exporter::Endpoints::kHealth, "health"));
  if (!health) return health.error();  // already names health_address
  health_server_ = std::move(*health);
  log_info("health", "listening on " + config_.health_address + " (/healthz, /readyz)");
  listening_ = true;
  sync_attachments();  // nothing to attach by now; decides readiness
  if (source_) {
    // After the machines listener and the servers: the source's batches attach interfaces
    // like the API's. Until it reaches etcd the persisted state stays enforced (fail static).
    source_->start();
    log_info("source", "following etcd " + config_.etcd->endpoints.front() + " prefix " +
                           config_.etcd->prefix + " host " + config_.etcd->host);
  }
  return {};
}

Status Agent::take_locks() {
  std::error_code ec;
  std::filesystem::create_directories(config_.state_dir, ec);
  if (ec) return make_error("creating state_dir " + config_.state_dir + ": " + ec.message());
  auto state_lock = InstanceLock::lock_file(config_.state_dir + "/" + kStateLockName);
  if (!state_lock) {
    refused_ = state_lock.error().code == EWOULDBLOCK;
    return state_lock.error();
  }
  state_lock_.emplace(std::move(*state_lock));
  if (auto status = ensure_bpffs(config_.bpffs); !status) return status;
  if (auto status = make_pin_dir(config_.pin_dir()); !status) return status;
  auto pin_lock = InstanceLock::lock_directory(config_.pin_dir());
  if (!pin_lock) {
    refused_ = pin_lock.error().code == EWOULDBLOCK;
    return pin_lock.error();
  }
  pin_lock_.emplace(std::move(*pin_lock));
  log_info("agent", "locked " + state_lock_->path() + " and " + pin_lock_->path() + " (PID " +
                        std::to_string(::getpid()) + ")");
  return {};
}

Status Agent::check_state_against_maps(const std::string &why_empty) {
  auto held = read_image(datapath_->map_backend());
  if (!held) return make_error("reading the pinned maps: " + held.error().describe());
  std::size_t entries = held->machines.size() + held->flycast.size() + held->net_flags.size();
  // Mid-migration the maps above may be new and empty (another layout, filled from the state
  // later): what is at stake is what the old pinned maps hold.
  if (datapath_->migration_pending()) {
    auto pinned = datapath_->pinned_state_entries();
    if (!pinned) return make_error("reading the pinned maps: " + pinned.error().describe());
    entries = std::max(entries, *pinned);
  }
  if (entries == 0) return {};
  const std::string what = "the persisted state " + config_.state_db_path() + " is empty (" +
                           why_empty + ") but the maps pinned in " + datapath_->pin_dir() +
                           " hold " + std::to_string(entries) + " entries (" +
                           std::to_string(held->machines.size()) + " machines, " +
                           std::to_string(held->flycast.size()) + " flycast, " +
                           std::to_string(held->net_flags.size()) + " network flags)";
  if (options_.accept_empty_state) {
    log_warn("state", what +
                          "; --accept-empty-state: removing them (machines fail closed until "
                          "their events are sent again)");
    return {};
  }
  refused_ = true;
  return make_error(what +
                    "; reconciling would remove them all. The enforcement in place is "
                    "left untouched. To recover: restore " +
                    config_.state_db_path() +
                    " from a backup and start again, or start once with `sixguard agent "
                    "--accept-empty-state` to remove them and replay the events");
}

void Agent::on_store_health(const StateStore::Health &health) {
  if (health.ok) {
    exporter_.readiness().clear_condition(kStateCondition);
    log_info("state", "state database " + config_.state_db_path() + " commits again");
    return;
  }
  exporter_.readiness().set_condition(kStateCondition, health.reason);
  log_error("state", health.reason);
}

void Agent::check_now() {
  log_info("agent", "received SIGHUP: checking the state database, the maps and the attachments");
  const auto health = control_->check_store(/*integrity=*/true);
  check_drift("SIGHUP");
  const auto attached = attachments_->snapshot();
  const auto readiness = exporter_.readiness().get();
  log_info("agent",
           std::string("check done: state database ") + (health.ok ? "ok" : "NOT ok") + "; maps " +
               (reconciled_ && control_->maps_in_sync() ? "compared with the state"
                                                        : "NOT in step with the state") +
               " and repaired where they differed; attachments checked against the kernel on " +
               std::to_string(attached.size()) + " interfaces; " +
               (readiness.ready ? "ready" : "not ready: " + readiness.reason));
}

void Agent::check_drift(std::string_view trigger) {
  DriftCheckRecord record = drift_->begin(trigger);
  // 1. Pins: without them a restarted agent would create new, empty maps.
  const PinRepair pins = datapath_->repair_pins();
  if (pins.remounted) {
    log_warn("drift", "bpffs was not mounted at " + config_.bpffs + ": mounted again");
    // The pin directory is a new one: lock it, or a second agent could take it.
    pin_lock_.reset();
    if (auto lock = InstanceLock::lock_directory(config_.pin_dir()); lock) {
      pin_lock_.emplace(std::move(*lock));
    } else {
      drift_->failed(record, "locking the pin directory again: " + lock.error().describe());
    }
  }
  for (const auto &pinned : pins.pinned) {
    drift_->repaired(record, "pin", "pin " + config_.pin_dir() + "/" + pinned + ": pinned again");
  }
  for (const auto &error : pins.errors) drift_->failed(record, error);
  // 2. Map entries, before any program is attached again (entry before program).
  drift_->check_maps(record);
  if (record.errors.empty() && control_->maps_in_sync()) {
    reconciled_ = true;
  }
  // 3. Attachments: the registry says what we attached, the kernel what is still there.
  const auto missing = attachments_->verify();
  for (const auto &hook : missing) {
    drift_->repaired(record, "attachment",
                     std::string(hook_name(hook.hook)) + " on " + hook.name + " (ifindex " +
                         std::to_string(hook.ifindex) + "): " + hook.what + "; attaching again");
    attachments_->forget(hook.ifindex);  // the programs still there stay attached
  }
  sync_attachments();  // attaches what was forgotten (adopting what is still in place)
  for (const auto &hook : missing) {
    if (!attachments_->attached(hook.ifindex)) {
      drift_->failed(record, std::string(hook_name(hook.hook)) + " on " + hook.name +
                                 " could not be attached again (see the attach error above)");
    }
  }
  drift_->finish(std::move(record));
}

void Agent::serve() {
  pollfd fds[3] = {
      {signals_.get(), POLLIN, 0}, {links_->fd(), POLLIN, 0}, {wakeup_.get(), POLLIN, 0}};
  using Clock = std::chrono::steady_clock;
  auto last_retry = Clock::now();
  auto last_integrity = Clock::now();
  auto next_drift = Clock::now() + config_.drift_check_interval;
  for (;;) {
    // Here as well as after each sweep: the state database's health (set from the API's
    // thread) changes readiness too. The notifier is used from this thread only.
    notify_readiness();
    // Woken at least every kStoreCheckIntervalMs, and in time for the next drift check.
    const auto until_drift =
        std::chrono::duration_cast<std::chrono::milliseconds>(next_drift - Clock::now());
    const int timeout =
        static_cast<int>(std::clamp<int64_t>(until_drift.count(), 0, kStoreCheckIntervalMs));
    const int ready = ::poll(fds, 3, timeout);
    if (ready < 0) {
      if (errno == EINTR) continue;
      log_error("agent", "poll: " + errno_error("").describe());
      return;
    }
    if (fds[0].revents & POLLIN) {
      signalfd_siginfo info{};
      [[maybe_unused]] auto got = ::read(signals_.get(), &info, sizeof(info));
      if (info.ssi_signo == SIGHUP) {
        check_now();
        last_integrity = Clock::now();
        next_drift = Clock::now() + config_.drift_check_interval;
        continue;
      }
      log_info("agent", std::string("received ") + ::strsignal(static_cast<int>(info.ssi_signo)) +
                            ", stopping");
      systemd_.stopping();
      return;
    }
    if (fds[1].revents & POLLIN) {
      if (auto status = links_->poll_once(); !status) {
        log_error("netlink", status.error().describe());
      }
    }
    if (fds[2].revents & POLLIN) {
      uint64_t count = 0;
      [[maybe_unused]] auto got = ::read(wakeup_.get(), &count, sizeof(count));
      sync_changed(control_->take_changed_interfaces());
    }
    if (Clock::now() >= next_drift) {
      check_drift("interval");
      // From the end of this check: a check longer than the interval never runs back to back.
      next_drift = Clock::now() + config_.drift_check_interval;
    }
    const auto now = Clock::now();
    const bool integrity = now - last_integrity >= kIntegrityInterval;
    if (integrity) last_integrity = now;
    control_->check_store(integrity);
    if (now - last_retry < kRetryInterval) continue;
    last_retry = now;
    if (!swept_ready_) {
      // Something failed before: try again (reconcile, then attachments).
      if (!reconciled_ || !control_->maps_in_sync()) {
        if (auto status = control_->reconcile(); status) {
          reconciled_ = true;
          log_info("state", "maps reconciled to state");
        } else {
          log_error("state", "reconciling maps to state: " + status.error().describe());
        }
      }
      sync_attachments();
    }
  }
}

bool Agent::is_machine_interface(const std::string &name) const {
  return control_->machine_on(name).has_value();
}

bool Agent::is_uplink(const std::string &name) const {
  for (const auto &uplink : config_.uplinks) {
    if (uplink == name) return true;
  }
  return false;
}

void Agent::on_link_change(const LinkChange &change) {
  if (!control_) return;  // start-up resolves interfaces itself
  if (change.kind == LinkChange::Kind::kRemoved) {
    const bool ours = attachments_->attached(change.ifindex);
    // Its programs went with it; the ifindex may be reused, so forget without detaching.
    attachments_->forget(change.ifindex);
    if (is_machine_interface(change.name)) {
      if (auto status = control_->interface_changed(change.name, std::nullopt); !status) {
        log_error("netlink",
                  "removing the entry of " + change.name + ": " + status.error().describe());
      }
      log_info("netlink", "machine interface " + change.name + " (ifindex " +
                              std::to_string(change.ifindex) + ") is gone; entry removed");
    } else if (ours) {
      log_info("netlink", "uplink " + change.name + " is gone");
    }
    return;
  }
  if (is_machine_interface(change.name) || is_uplink(change.name)) {
    log_info("netlink", "interface " + change.name + " appeared (ifindex " +
                            std::to_string(change.ifindex) + ")");
    sync_attachments();
  }
}

Status Agent::attach_machine(const MachineInfo &machine, uint32_t ifindex) {
  if (machine.ifindex != ifindex) {
    // The entry must be there (for this ifindex) before the program is.
    if (auto status = control_->interface_changed(machine.interface_name, ifindex); !status) {
      return make_error("entry for " + machine.interface_name + ": " + status.error().describe());
    }
  }
  if (attachments_->attached(ifindex)) return {};
  if (auto status = attachments_->attach_machine(machine.interface_name, ifindex); !status) {
    return status;
  }
  const auto attached = attachments_->find(ifindex);
  std::string modes;
  for (const auto &hook : attached->hooks) {
    modes += std::string(modes.empty() ? "" : ", ") +
             (hook.hook == SG_HOOK_MACHINE_EGRESS ? "machine_egress " : "machine_ingress ") +
             hook.mode + (hook.adopted ? " (adopted)" : "");
  }
  log_info("attach", "machine " + machine.machine + " on " + machine.interface_name + " (ifindex " +
                         std::to_string(ifindex) + "): " + modes);
  return {};
}

void Agent::sync_changed(const std::vector<std::string> &names) {
  if (!control_) return;
  if (!swept_ready_) {
    sync_attachments();  // something is amiss already: the full sweep, which retries it
    return;
  }
  for (const auto &name : names) {
    const auto ifindex = resolver_.ifindex(name);
    if (!ifindex) continue;  // absent: attached when it appears, its programs gone with it
    if (const auto machine = control_->machine_on(name)) {
      if (!attach_machine(*machine, *ifindex)) {
        sync_attachments();
        return;
      }
      continue;
    }
    // No machine owns the name any more (stopped, moved, app destroyed). The ifindex is the
    // one the name resolves to now, so no other machine's interface can be on it: detach,
    // as the full sweep would, unless it is an uplink.
    if (is_uplink(name) || !attachments_->attached(*ifindex)) continue;
    if (auto status = attachments_->detach(*ifindex); !status) {
      log_error("attach", status.error().describe());
      sync_attachments();
      return;
    }
    log_info("attach", "detached from " + name + " (machine stopped)");
  }
}

void Agent::sync_attachments() {
  if (!control_) return;
  std::vector<std::string> problems;
  std::set<uint32_t> wanted;

  for (const auto &machine : control_->machines()) {
    const auto ifindex = resolver_.ifindex(machine.interface_name);
    if (!ifindex) continue;  // absent: attached when it appears
    wanted.insert(*ifindex);
    if (auto status = attach_machine(machine, *ifindex); !status) {
      problems.push_back(status.error().describe());
    }
  }

  for (const auto &uplink : config_.uplinks) {
    const auto ifindex = resolver_.ifindex(uplink);
    if (!ifindex) continue;
    wanted.insert(*ifindex);
    if (attachments_->attached(*ifindex)) continue;
    if (auto status = attachments_->attach_uplink(uplink, *ifindex); !status) {
      problems.push_back(status.error().describe());
      continue;
    }
    log_info("attach", "uplink " + uplink + " (ifindex " + std::to_string(*ifindex) + ")");
  }

  // Interfaces no machine owns any more: machine.stopped (the entry is already gone).
  for (const auto &attachment : attachments_->snapshot()) {
    if (wanted.count(attachment.ifindex) != 0) continue;
    if (auto status = attachments_->detach(attachment.ifindex); !status) {
      log_error("attach", status.error().describe());
    } else {
      log_info("attach", "detached from " + attachment.name + " (machine stopped)");
    }
  }

  if (!reconciled_) problems.insert(problems.begin(), "maps not reconciled to state");
  if (!listening_) {
    for (const auto &problem : problems) log_error("attach", problem);
    exporter_.readiness().set_not_ready(problems.empty() ? "starting the API and metrics"
                                                         : problems.front());
    return;
  }
  if (problems.empty()) {
    if (!swept_ready_) log_info("agent", "ready");
    swept_ready_ = true;
    exporter_.readiness().set_ready();
  } else {
    swept_ready_ = false;
    for (const auto &problem : problems) log_error("attach", problem);
    exporter_.readiness().set_not_ready(problems.front());
  }
  // After readiness is set, never before: READY=1 means /readyz already answers 200.
  notify_readiness();
}

// True when something accepts connections on the Unix socket.
bool socket_answers(const std::string &path) {
  Fd fd(::socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0));
  if (!fd.valid()) return false;
  sockaddr_un address{};
  address.sun_family = AF_UNIX;
  if (path.size() >= sizeof(address.sun_path)) return false;
  std::copy(path.begin(), path.end(), address.sun_path);
  return ::connect(fd.get(), reinterpret_cast<sockaddr *>(&address), sizeof(address)) == 0;
}

}  // namespace

int run_agent(const AgentConfig &config, const AgentOptions &options) {
  Agent agent(config, options);
  return agent.run();
}

int run_uninstall(const AgentConfig &config) {
  // The agent's own locks: held by a running agent, uninstall refuses; held by us, no agent
  // starts while we remove what it would use. A missing directory has no agent to protect.
  std::optional<InstanceLock> state_lock, pin_lock;
  for (auto [path, lock, directory] :
       {std::tuple{config.state_dir + "/" + kStateLockName, &state_lock, false},
        std::tuple{config.pin_dir(), &pin_lock, true}}) {
    const std::string parent = directory ? path : config.state_dir;
    if (!std::filesystem::is_directory(parent)) continue;
    auto locked = directory ? InstanceLock::lock_directory(path) : InstanceLock::lock_file(path);
    if (!locked) {
      log_error("uninstall", locked.error().code == EWOULDBLOCK ? locked.error().message
                                                                : locked.error().describe());
      return locked.error().code == EWOULDBLOCK ? exit_code::kAgentRefused
                                                : exit_code::kAgentFailed;
    }
    lock->emplace(std::move(*locked));
  }
  if (socket_answers(config.api_socket)) {
    log_error("uninstall", "an agent is running (it answers on " + config.api_socket +
                               "); stop it first, or it would attach again");
    return exit_code::kAgentFailed;
  }
  int result = exit_code::kOk;
  if (auto status = uninstall_datapath_programs(config); !status) {
    log_error("uninstall", status.error().describe());
    result = exit_code::kAgentFailed;
  } else {
    log_info("uninstall", "programs detached; pins under " + config.pin_dir() + " removed");
  }
  std::error_code ec;
  for (const char *suffix : {"", "-wal", "-shm", "-journal"}) {
    std::filesystem::remove(config.state_db_path() + suffix, ec);
  }
  if (ec) {
    log_error("uninstall", "removing " + config.state_db_path() + ": " + ec.message());
    result = exit_code::kAgentFailed;
  } else {
    log_info("uninstall", "state " + config.state_db_path() + " removed");
  }
  std::filesystem::remove(config.api_socket, ec);  // a stale socket file (nobody answers)
  // Removed while we hold it: a process that opened it before sees, once it has the lock,
  // that the path names another file, and tries again (instance_lock.cpp).
  if (state_lock) std::filesystem::remove(state_lock->path(), ec);
  return result;
}

}  // namespace sixguard::daemon
