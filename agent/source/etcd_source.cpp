#include "agent/source/etcd_source.h"

#include <condition_variable>
#include <random>

#include "agent/control/input_limits.h"

namespace sixguard {

namespace {

// The kinds of key listed at one revision: every global kind, then this host's machines.
constexpr const char *kGlobalKinds[] = {"/networks/", "/network-ids/", "/apps/", "/modes/",
                                        "/flycast/"};

// Sleeps for delay unless stop is requested first; false when it was.
bool sleep_for(std::chrono::milliseconds delay, std::stop_token stop) {
  std::mutex mutex;
  std::condition_variable_any wake;
  std::unique_lock lock(mutex);
  return !wake.wait_for(lock, stop, delay, [] { return false; });
}

}  // namespace

int64_t EtcdSource::identity(const std::string &prefix, const std::string &host) {
  // FNV-1a: stable across builds and hosts (std::hash is not), never 0 (0 means "no source").
  uint64_t hash = 1469598103934665603ull;
  for (const char c : prefix + '\n' + host) {
    hash ^= static_cast<unsigned char>(c);
    hash *= 1099511628211ull;
  }
  return static_cast<int64_t>(hash >> 1) | 1;
}

Result<std::unique_ptr<EtcdSource>> EtcdSource::create(EtcdSourceSettings settings,
                                                       ControlPlane &control, SourceLog log) {
  if (auto ok = check_etcd_prefix(settings.prefix); !ok) return ok.error();
  if (!valid_host_name(settings.host)) {
    return make_error("etcd source: host '" + shown(settings.host) + "' is not a valid host");
  }
  etcd::ClientConfig config;
  config.endpoints = settings.endpoints;
  config.tls = settings.tls;
  auto client = etcd::Client::create(std::move(config));
  if (!client) return client.error();
  return std::unique_ptr<EtcdSource>(
      new EtcdSource(std::move(settings), std::move(*client), control, std::move(log)));
}

EtcdSource::EtcdSource(EtcdSourceSettings settings, std::unique_ptr<etcd::Client> client,
                       ControlPlane &control, SourceLog log)
    : settings_(std::move(settings)),
      identity_(identity(settings_.prefix, settings_.host)),
      host_prefix_(etcd_host_prefix(settings_.prefix, settings_.host)),
      hosts_prefix_(etcd_hosts_prefix(settings_.prefix)),
      client_(std::move(client)),
      control_(control),
      log_(std::move(log)) {
  status_.endpoints = settings_.endpoints;
  status_.prefix = settings_.prefix;
  status_.host = settings_.host;
}

EtcdSource::~EtcdSource() {
  stop();
}

void EtcdSource::start() {
  thread_ = std::jthread([this](std::stop_token stop) { run(stop); });
}

void EtcdSource::stop() {
  if (thread_.joinable()) {
    thread_.request_stop();
    thread_.join();
  }
}

EtcdSourceStatus EtcdSource::status() const {
  std::lock_guard lock(mutex_);
  return status_;
}

nlohmann::json EtcdSource::status_json() const {
  const EtcdSourceStatus status = this->status();
  nlohmann::json keys = nlohmann::json::array();
  for (const auto &[key, reason] : status.invalid_keys) {
    if (keys.size() >= settings_.invalid_keys_listed) break;
    keys.push_back({{"key", printable(key)}, {"reason", reason}});
  }
  return {{"kind", "etcd"},
          {"endpoints", status.endpoints},
          {"prefix", status.prefix},
          {"host", status.host},
          {"revision", status.revision},
          {"connected", status.connected},
          {"synced", status.synced},
          {"last_error", status.last_error},
          {"resyncs", status.resyncs},
          {"invalid_keys",
           {{"count", status.invalid_keys.size()},
            {"total", status.invalid_keys_total},
            {"keys", keys}}}};
}

bool EtcdSource::followed(const std::string &key) const {
  if (key.size() <= settings_.prefix.size() ||
      key.compare(0, settings_.prefix.size(), settings_.prefix) != 0 ||
      key[settings_.prefix.size()] != '/') {
    return false;
  }
  // Other hosts' machines are none of ours; anything else under hosts/ (a malformed key for
  // this host included) is looked at and reported.
  if (key.starts_with(hosts_prefix_)) {
    const std::string_view rest = std::string_view(key).substr(hosts_prefix_.size());
    const std::string_view host = rest.substr(0, rest.find('/'));
    return host == settings_.host;
  }
  return true;
}

void EtcdSource::note_invalid(const std::string &key, const std::string &reason) {
  bool new_reason = false;
  {
    std::lock_guard lock(mutex_);
    auto [it, inserted] = status_.invalid_keys.try_emplace(key, reason);
    new_reason = inserted || it->second != reason;
    it->second = reason;
    if (new_reason) ++status_.invalid_keys_total;
  }
  if (new_reason) {
    const std::string shown_key = printable(key);
    log_(true, "skipping invalid key" +
                   (reason.find(shown_key) == std::string::npos ? " '" + shown_key + "'" : "") +
                   ": " + reason);
  }
}

void EtcdSource::note_valid(const std::string &key) {
  std::lock_guard lock(mutex_);
  status_.invalid_keys.erase(key);
}

void EtcdSource::set_connected(bool connected, const std::string &error) {
  bool changed = false;
  {
    std::lock_guard lock(mutex_);
    changed = status_.connected != connected;
    status_.connected = connected;
    if (!error.empty()) status_.last_error = error;
  }
  if (changed) {
    log_(!connected, connected ? "connected to etcd"
                               : "etcd unreachable, keeping the last applied state: " + error);
  }
}

void EtcdSource::set_revision(int64_t revision) {
  std::lock_guard lock(mutex_);
  if (revision > status_.revision) status_.revision = revision;
}

Result<int64_t> EtcdSource::relist() {
  // Every kind at the revision of the first answer: one consistent snapshot.
  int64_t revision = 0;
  std::vector<etcd::KeyValue> kvs;
  std::vector<std::string> ranges;
  for (const char *kind : kGlobalKinds) ranges.push_back(settings_.prefix + kind);
  ranges.push_back(host_prefix_);
  for (const auto &range : ranges) {
    auto snapshot = client_->list_prefix(range, settings_.page_size, revision);
    if (!snapshot) return snapshot.error();
    revision = snapshot->revision;
    for (auto &kv : snapshot->kvs) kvs.push_back(std::move(kv));
  }

  DesiredState desired;
  std::map<std::string, std::string> invalid;
  for (const auto &kv : kvs) {
    auto entry = parse_etcd_entry(settings_.prefix, kv.key, kv.value);
    if (!entry) {
      invalid[kv.key] = entry.error().message;
      continue;
    }
    if (entry->event) desired.add({std::move(*entry->event), kv.key});
  }
  const auto result = control_.apply_from_source(
      [&](const State &state) { return plan_difference(state, desired); },
      SourceMark{revision, identity_}, true);
  for (const auto &[planned, error] : result.refused) {
    if (planned.origin.empty()) {
      log_(true, "a removal was refused: " + error.message);
    } else {
      invalid[planned.origin] = error.message;
    }
  }
  if (result.failure && *result.failure != ControlErrorKind::kInternal) {
    return make_error("applying the list at revision " + std::to_string(revision) + ": " +
                      result.error);
  }
  if (result.failure == ControlErrorKind::kInternal) log_(true, result.error);
  // The list is authoritative: the invalid keys are exactly those it found.
  {
    std::lock_guard lock(mutex_);
    for (auto it = status_.invalid_keys.begin(); it != status_.invalid_keys.end();) {
      it = invalid.contains(it->first) ? std::next(it) : status_.invalid_keys.erase(it);
    }
  }
  for (const auto &[key, reason] : invalid) note_invalid(key, reason);
  log_(false, "listed " + std::to_string(kvs.size()) + " keys at revision " +
                  std::to_string(revision) + ": " + std::to_string(result.applied) +
                  " events applied, " + std::to_string(invalid.size()) + " invalid keys");
  return revision;
}

std::vector<PlannedEvent> EtcdSource::plan_revision(const State &state,
                                                    const etcd::RevisionBatch &batch,
                                                    KeyOutcomes &outcomes) const {
  std::vector<PlannedEvent> plan;
  for (const auto &event : batch.events) {
    const std::string &key = event.kv.key;
    if (!followed(key)) continue;
    if (event.type == etcd::WatchEvent::Type::kDelete) {
      outcomes.valid.push_back(key);
      auto parsed = parse_etcd_key(settings_.prefix, key);
      if (!parsed) continue;
      if (auto removal = etcd_deletion_event(*parsed)) plan_removal(state, *removal, key, plan);
      continue;
    }
    auto entry = parse_etcd_entry(settings_.prefix, key, event.kv.value);
    if (!entry) {
      outcomes.invalid.emplace_back(key, entry.error().message);
      // The key no longer describes a valid object: what it described goes (fail closed).
      if (auto parsed = parse_etcd_key(settings_.prefix, key)) {
        if (auto removal = etcd_deletion_event(*parsed)) plan_removal(state, *removal, key, plan);
      }
      continue;
    }
    outcomes.valid.push_back(key);
    if (entry->event) plan_object(state, {std::move(*entry->event), key}, plan);
  }
  order_plan(plan);
  return plan;
}

Status EtcdSource::apply_revisions(const std::vector<etcd::RevisionBatch> &batches) {
  if (batches.empty()) return {};
  // One planner per transaction, each planned on the registry the earlier ones left: the
  // outcome of applying them one by one, for one commit carrying the last revision.
  std::vector<KeyOutcomes> outcomes(batches.size());
  std::vector<ControlPlane::SourcePlanner> planners;
  planners.reserve(batches.size());
  for (std::size_t i = 0; i < batches.size(); ++i) {
    planners.push_back([this, &batch = batches[i], &keys = outcomes[i]](const State &state) {
      return plan_revision(state, batch, keys);
    });
  }
  const int64_t revision = batches.back().revision;
  const auto result = control_.apply_from_source(planners, SourceMark{revision, identity_}, false);
  if (result.failure && *result.failure != ControlErrorKind::kInternal) {
    return make_error("applying revision" +
                      (batches.size() > 1 ? "s " + std::to_string(batches.front().revision) + "-"
                                          : std::string(" ")) +
                      std::to_string(revision) + ": " + result.error);
  }
  if (result.failure == ControlErrorKind::kInternal) log_(true, result.error);
  for (std::size_t r = 0; r < result.refused.size(); ++r) {
    const auto &[planned, error] = result.refused[r];
    if (planned.origin.empty()) {
      log_(true, "a removal was refused: " + error.message);
    } else {
      outcomes[result.refused_segment[r]].invalid.emplace_back(planned.origin, error.message);
    }
  }
  // In transaction order: a key's last transaction decides whether it is listed invalid.
  for (const auto &keys : outcomes) {
    for (const auto &key : keys.valid) note_valid(key);
    for (const auto &[key, reason] : keys.invalid) note_invalid(key, reason);
  }
  applied_revision_ = revision;
  set_revision(revision);
  return {};
}

Status EtcdSource::watch_from(int64_t revision, std::stop_token stop) {
  etcd::WatchRequest request;
  request.key = settings_.prefix + "/";
  request.range_end = etcd::prefix_end(request.key);
  request.start_revision = revision + 1;
  applied_revision_ = revision;
  Status failure;
  // Transactions already read but not applied: gathered while the stream holds more
  // messages (the agent is behind), then applied with one commit.
  std::vector<etcd::RevisionBatch> gathered;
  std::size_t gathered_events = 0;
  const auto apply_gathered = [&]() -> bool {
    auto applied = apply_revisions(gathered);
    gathered.clear();
    gathered_events = 0;
    if (!applied) failure = applied;
    return applied.ok();
  };
  const auto handler = [&](const etcd::WatchResponse &response) {
    if (response.created) set_connected(true);
    for (auto &batch : etcd::group_by_revision(response.events)) {
      if (batch.revision <= applied_revision_) continue;  // already applied
      if (!gathered.empty() && batch.revision <= gathered.back().revision) continue;
      gathered_events += batch.events.size();
      gathered.push_back(std::move(batch));
    }
    if (!response.more_buffered || gathered_events >= settings_.max_gathered_events) {
      if (!apply_gathered()) return false;
    }
    // A progress notification: everything up to its revision was sent, none of it ours.
    if (gathered.empty() && response.is_progress() && response.revision > applied_revision_) {
      applied_revision_ = response.revision;
      set_revision(response.revision);
    }
    return !stop.stop_requested();
  };
  Status watched = client_->watch(request, handler, stop);
  // Whole transactions read before the stream ended are applied all the same.
  if (failure.ok() && !gathered.empty()) apply_gathered();
  if (!failure.ok()) return failure;
  if (!watched.ok()) return watched;
  return make_error("watch ended", etcd::kStoppedCode);
}

void EtcdSource::run(std::stop_token stop) {
  const SourceMark mark = control_.source_mark();
  int64_t revision = 0;
  bool resyncing = false;  // the first list of a fresh agent is no resync
  if (mark.source_id == identity_ && mark.revision > 0) {
    revision = mark.revision;
    resyncing = true;
    set_revision(revision);
    std::lock_guard lock(mutex_);
    status_.synced = true;
    log_(false, "resuming the watch after revision " + std::to_string(revision));
  }
  std::mt19937_64 random(std::random_device{}());
  unsigned attempt = 0;
  while (!stop.stop_requested()) {
    if (revision == 0) {
      auto listed = relist();
      if (!listed) {
        set_connected(false, listed.error().describe());
        if (!sleep_for(etcd::backoff_delay(settings_.backoff, attempt++, random), stop)) break;
        continue;
      }
      revision = *listed;
      set_revision(revision);
      set_connected(true);
      {
        std::lock_guard lock(mutex_);
        if (resyncing) ++status_.resyncs;
        status_.synced = true;
      }
      resyncing = true;
    }
    Status watched = watch_from(revision, stop);
    if (applied_revision_ > revision) attempt = 0;
    revision = applied_revision_;
    if (stop.stop_requested()) break;
    if (etcd::error_kind(watched.error()) == etcd::ErrorKind::kCompacted) {
      log_(true, "revision " + std::to_string(revision + 1) +
                     " was compacted: listing again and reconciling by difference");
      revision = 0;
      continue;
    }
    set_connected(false, watched.error().describe());
    if (!sleep_for(etcd::backoff_delay(settings_.backoff, attempt++, random), stop)) break;
  }
}

}  // namespace sixguard
