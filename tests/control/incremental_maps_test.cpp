// Test that the incremental path of the control plane (a batch validated on the live state
// with an undo journal, persisted and written to the maps for the keys it touched only)
// leaves exactly what the full path would: random batches of every event type, refused ones
// (400/409/422/507), app.destroyed cascades, two interface names on one ifindex, interfaces
// that come and go, and map writes that fail part-way, checked after every step against a
// reference registry that applies the same batches the simple way (on a copy of the state)
// and against the full image of that state. A wrong map entry here is a tenant bypass.
#include <random>

#include "tests/control/control_fixture.h"
#include "agent/api/state_views.h"
#include "agent/control/desired_maps.h"
#include "agent/control/state_rules.h"
#include "tests/common/event_json.h"

namespace sixguard::testing {
namespace {

struct NetworkSpec {
  const char *org;
  const char *name;
  uint32_t id;
};
constexpr NetworkSpec kNetworks[] = {
    {"acme", "default", 0x0002045b},
    {"acme", "n1", 0x0009d844},
    {"beta", "default", 0x00030001},
    {"beta", "n1", 0x00030002},
};
constexpr int kApps = 8;       // a0-a3 in acme, a4-a7 in beta
constexpr int kMachines = 20;  // more than sg_machines holds, for 507
constexpr int kFlycast = 10;
constexpr int kInterfaces = 10;

std::string hex(uint32_t value) {
  char text[16];
  std::snprintf(text, sizeof(text), "%x", value);
  return text;
}

// fdaa:<network id>:<rest>: an address in that network.
std::string address_in(uint32_t network, const std::string &rest) {
  return "fdaa:" + hex(network >> 16) + ":" + hex(network & 0xffff) + ":" + rest;
}

// The registry as the control plane was before the journal: a batch applied on a copy and
// kept only if every event passes, with the same capacity rule.
struct Reference {
  State state;
  std::size_t machines_capacity = 0, flycast_capacity = 0, net_flags_capacity = 0;
  std::vector<Ipv6Prefix> infra_prefixes;  // the control plane's (ControlFixture's config)

  // The status the control plane must answer (200 for an accepted batch, whatever the maps).
  int apply(const std::string &body, std::size_t &applied) {
    ParsedEvents parsed = parse_events(body);
    if (parsed.error) return static_cast<int>(http_status(parsed.error->kind));
    State working = state;
    applied = 0;
    for (std::size_t i = 0; i < parsed.events.size(); ++i) {
      EventOutcome outcome =
          apply_event(working, parsed.events[i], i,
                      EventRules{.uplinks = {}, .infra_prefixes = infra_prefixes});
      if (outcome.error) return static_cast<int>(http_status(outcome.error->kind));
      const auto grows = [](std::size_t before, std::size_t after, std::size_t capacity) {
        return after > capacity && after > before;
      };
      if (grows(state.machines().size(), working.machines().size(), machines_capacity) ||
          grows(state.flycast().size(), working.flycast().size(), flycast_capacity) ||
          grows(state.audit_network_count(), working.audit_network_count(), net_flags_capacity)) {
        return 507;
      }
      if (outcome.effect == EventEffect::kApplied) ++applied;
    }
    state = std::move(working);
    return 200;
  }
};

class IncrementalMaps : public ControlFixture {
 protected:
  void SetUp() override {
    ControlFixture::SetUp();
    maps.machines_capacity = 12;
    maps.flycast_capacity = 7;
    maps.net_flags_capacity = 2;
    maps.infra_capacity = 8;
    reference.machines_capacity = maps.machines_capacity;
    reference.flycast_capacity = maps.flycast_capacity;
    reference.net_flags_capacity = maps.net_flags_capacity;
    reference.infra_prefixes = config.infra_prefixes;
    // tap0-tap6 exist; tap7 names the ifindex of tap1 (a stale resolver answer); tap8 and
    // tap9 do not exist yet.
    resolver.interfaces.clear();
    for (int i = 0; i < 7; ++i) resolver.interfaces["tap" + std::to_string(i)] = 20 + i;
    resolver.interfaces["tap7"] = 21;
  }

  template <typename T>
  const T &pick(const std::vector<T> &from) {
    return from[std::uniform_int_distribution<std::size_t>(0, from.size() - 1)(random)];
  }
  int below(int n) { return std::uniform_int_distribution<int>(0, n - 1)(random); }
  bool chance(int percent) { return below(100) < percent; }

  std::string app_name(int i) { return "a" + std::to_string(i); }
  const char *org_of(int app) { return app < kApps / 2 ? "acme" : "beta"; }
  // Without "network" an app goes on its org's default network.
  const char *network_name_of(int app) { return app % 2 ? "n1" : "default"; }

  // The network an app is on in the reference, usually; now and then any network, so that
  // some addresses are on the wrong one (422).
  uint32_t network_for(const std::string &app) {
    const AppRecord *record = reference.state.live_app(app);
    if (record && !chance(10)) return record->network_id;
    return kNetworks[below(4)].id;
  }

  nlohmann::json random_event() {
    const int app = below(kApps);
    const std::string name = app_name(app);
    const int kind = below(100);  // weights: mostly machines and Flycast, some of everything
    if (kind < 7) {
      const NetworkSpec &network = kNetworks[below(4)];
      // Now and then an id bound to another network (409) or a bad one (422).
      const uint32_t id = chance(8) ? kNetworks[below(4)].id : network.id;
      return {{"type", "network.created"},
              {"org", network.org},
              {"network", network.name},
              {"id", chance(3) ? nlohmann::json(0) : nlohmann::json(id)}};
    }
    if (kind < 17) {
      nlohmann::json event = {{"type", "app.created"},
                              {"org", chance(5) ? org_of(kApps - 1 - app) : org_of(app)},
                              {"app", name}};
      // Mostly the app's own network; now and then another (409 app moved) or none (422).
      if (chance(70))
        event["network"] = chance(3) ? "nowhere" : network_name_of(chance(90) ? app : app + 1);
      return event;
    }
    if (kind < 22) return {{"type", "app.destroyed"}, {"app", name}};
    if (kind < 52) {
      const int machine = below(kMachines);
      // Machine ids are global: mostly started for the same app (another one is 409).
      const std::string owner = chance(90) ? app_name(machine % kApps) : name;
      return test::machine_started(
          owner, "m" + std::to_string(machine),
          address_in(network_for(owner), "a7b:" + hex(machine) + "::2"),
          chance(2) ? std::string("bad/name") : "tap" + std::to_string(below(kInterfaces)));
    }
    if (kind < 62) {
      return {{"type", "machine.stopped"}, {"machine", "m" + std::to_string(below(kMachines))}};
    }
    if (kind < 80) {
      // Into a network of the app's org; now and then inside a machine's /112 (409).
      const NetworkSpec &network = kNetworks[(app < kApps / 2 ? 0 : 2) + below(2)];
      const std::string rest =
          chance(5) ? "a7b:" + hex(below(kMachines)) + "::9" : "0:1:f1:0:" + hex(below(kFlycast));
      return test::flycast_allocated(name, address_in(network.id, rest), network.name);
    }
    if (kind < 88) {
      return {{"type", "flycast.released"},
              {"address", address_in(kNetworks[below(4)].id, "0:1:f1:0:" + hex(below(kFlycast)))}};
    }
    if (kind < 97) {
      const NetworkSpec &network = kNetworks[below(4)];
      return {{"type", "network.mode"},
              {"org", network.org},
              {"network", network.name},
              {"mode", chance(50) ? "audit" : "enforce"}};
    }
    if (chance(50)) return {{"type", "no.such"}};         // 400
    return {{"type", "machine.started"}, {"app", name}};  // missing fields: 400
  }

  std::string random_batch() {
    nlohmann::json batch = nlohmann::json::array();
    const int size = 1 + below(chance(20) ? 10 : 3);
    for (int i = 0; i < size; ++i) {
      // Lay the ground first in most batches so that the rest is mostly valid.
      if (chance(4)) {
        const NetworkSpec &network = kNetworks[below(4)];
        batch.push_back({{"type", "network.created"},
                         {"org", network.org},
                         {"network", network.name},
                         {"id", network.id}});
      }
      batch.push_back(random_event());
    }
    return batch.dump();
  }

  // The full image of the reference state with the interfaces as they are now.
  MapImage expected_image() {
    return desired_image(reference.state, config, [&](const std::string &name) {
      const auto it = resolver.interfaces.find(name);
      return it == resolver.interfaces.end() ? std::nullopt : std::optional<uint32_t>(it->second);
    });
  }

  void expect_maps_are_the_full_image(const std::string &when) {
    const MapImage expected = expected_image();
    ASSERT_EQ(maps.machines.size(), expected.machines.size()) << when;
    for (const auto &[ifindex, value] : expected.machines) {
      ASSERT_TRUE(maps.machines.contains(ifindex)) << when << ": ifindex " << ifindex;
      ASSERT_TRUE(same_machine(maps.machines.at(ifindex), value))
          << when << ": ifindex " << ifindex;
    }
    ASSERT_EQ(maps.flycast.size(), expected.flycast.size()) << when;
    for (const auto &[address, value] : expected.flycast) {
      ASSERT_TRUE(maps.flycast.contains(address)) << when << ": " << address.str();
      ASSERT_TRUE(same_flycast(maps.flycast.at(address), value)) << when << ": " << address.str();
    }
    ASSERT_EQ(maps.net_flags, expected.net_flags) << when;
    ASSERT_EQ(maps.infra, expected.infra) << when;
    ASSERT_TRUE(same_config(maps.config, expected.config)) << when;
    // Issue 14: every owner slot says what the hash says for its interface, at its index; and
    // at no point in any write did a slot name an interface the hash had dropped.
    for (const auto &[index, slot] : maps.owner_slots) {
      ASSERT_EQ(slot.seq % 2, 0u) << when << ": slot " << index;
      ASSERT_EQ(owner_slot_index(slot.ifindex, maps.slot_count), index) << when;
      ASSERT_TRUE(expected.machines.contains(slot.ifindex))
          << when << ": slot " << index << " names ifindex " << slot.ifindex;
      ASSERT_TRUE(same_machine(expected.machines.at(slot.ifindex), slot.machine))
          << when << ": slot of ifindex " << slot.ifindex;
    }
    ASSERT_TRUE(maps.slot_violations.empty()) << when << ": " << maps.slot_violations.front();
  }

  void expect_registry_is_the_reference(const std::string &when) {
    const auto machines = control->machines();
    ASSERT_EQ(machines.size(), reference.state.machines().size()) << when;
    for (const auto &info : machines) {
      const MachineRecord *record = reference.state.machine(info.machine);
      ASSERT_TRUE(record) << when << ": " << info.machine;
      EXPECT_EQ(info.app, record->app) << when;
      EXPECT_EQ(info.address, record->address) << when;
      EXPECT_EQ(info.interface_name, record->interface_name) << when;
      const AppRecord *app = reference.state.live_app(record->app);
      ASSERT_TRUE(app) << when;
      EXPECT_EQ(info.app_id, app->app_id) << when;
    }
    const StateCounts counts = control->counts();
    EXPECT_EQ(counts.networks, reference.state.networks().size()) << when;
    EXPECT_EQ(counts.flycast, reference.state.flycast().size()) << when;
    EXPECT_EQ(counts.audit_networks, reference.state.audit_network_count()) << when;
    // The counters published at commit (read without the lock) and the per-app indexes
    // (app.destroyed and the listings walk them) against a recount of the reference.
    std::size_t live_apps = 0, attached = 0;
    std::map<std::string, std::size_t> machines_per_app;
    for (const auto &[name, app] : reference.state.apps()) live_apps += app.destroyed ? 0 : 1;
    for (const auto &[id, machine] : reference.state.machines()) {
      ++machines_per_app[machine.app];
      attached += resolver.interfaces.contains(machine.interface_name) ? 1 : 0;
    }
    EXPECT_EQ(counts.apps, live_apps) << when;
    EXPECT_EQ(counts.machines, reference.state.machines().size()) << when;
    if (control->maps_in_sync()) {
      EXPECT_EQ(counts.machines_attached, attached) << when;
    }
    for (const auto &app : apps_json(*control, std::nullopt)["apps"]) {
      EXPECT_EQ(app["machine_count"], machines_per_app[app["name"].get<std::string>()])
          << when << ": " << app["name"];
    }
  }

  // Makes the writes of the next batch fail from the n-th on (the maps end half-written).
  void fail_writes_from(int n) {
    auto count = std::make_shared<int>(0);
    maps.before_write = [this, count, n] {
      if (++*count >= n) maps.fail_writes = true;
    };
  }
  void stop_failing() {
    maps.before_write = nullptr;
    maps.fail_writes = false;
  }

  void run(uint32_t seed, int steps) {
    random.seed(seed);
    // The ground most events need, so that most batches pass; the random events destroy and
    // recreate it as they go.
    nlohmann::json ground = nlohmann::json::array();
    for (const auto &network : kNetworks) {
      ground.push_back({{"type", "network.created"},
                        {"org", network.org},
                        {"network", network.name},
                        {"id", network.id}});
    }
    for (int app = 0; app < kApps; ++app) {
      ground.push_back({{"type", "app.created"},
                        {"org", org_of(app)},
                        {"app", app_name(app)},
                        {"network", network_name_of(app)}});
    }
    std::size_t applied = 0;
    if (reference.apply(ground.dump(), applied) == 200) {
      ASSERT_EQ(apply(ground.dump()).status, 200);
    }
    for (int step = 0; step < steps; ++step) {
      const std::string when = "seed " + std::to_string(seed) + " step " + std::to_string(step);
      if (chance(8)) {
        // An interface appears, changes ifindex or goes (only the daemon's report moves it).
        const std::string name = "tap" + std::to_string(below(kInterfaces));
        std::optional<uint32_t> ifindex;
        if (chance(70)) ifindex = 20 + below(12);
        if (ifindex) {
          resolver.interfaces[name] = *ifindex;
        } else {
          resolver.interfaces.erase(name);
        }
        if (chance(10)) fail_writes_from(1);
        const bool repairing = !control->maps_in_sync();
        const Status status = control->interface_changed(name, ifindex);
        stop_failing();
        if (status) {
          ASSERT_TRUE(control->maps_in_sync()) << when;
          expect_maps_are_the_full_image(when + " (interface " + name + ")");
        } else {
          ASSERT_FALSE(control->maps_in_sync()) << when;
        }
        (void)repairing;
        continue;
      }
      const std::string body = random_batch();
      std::size_t applied = 0;
      const int expected_status = reference.apply(body, applied);
      const bool inject = chance(10);
      if (inject) fail_writes_from(1 + below(3));
      const Answered result = apply(body);
      stop_failing();
      ++statuses[result.status];
      const std::string context = when + ": " + body + " -> " + result.body.dump();
      if (inject && expected_status == 200 && result.status == 500) {
        // Committed, the maps not all written: the next change repairs them.
        ASSERT_FALSE(control->maps_in_sync()) << context;
        ASSERT_EQ(result.applied, applied) << context;
        expect_registry_is_the_reference(context);
        continue;
      }
      ASSERT_EQ(result.status, expected_status) << context;
      if (result.status == 200) {
        ASSERT_EQ(result.applied, applied) << context;
      }
      expect_registry_is_the_reference(context);
      // A batch that applied nothing leaves a half-written map for the next one to repair.
      if (control->maps_in_sync()) expect_maps_are_the_full_image(context);
    }
    ASSERT_TRUE(control->reconcile());
    expect_maps_are_the_full_image("seed " + std::to_string(seed) + " end");
    // state.db holds the same registry: a restarted agent has nothing to write.
    maps.clear_log();
    open();
    EXPECT_TRUE(maps.writes.empty()) << ::testing::PrintToString(maps.writes);
    expect_registry_is_the_reference("seed " + std::to_string(seed) + " after restart");
  }

  Reference reference;
  std::mt19937 random;
  std::map<int, int> statuses;
};

TEST_F(IncrementalMaps, RandomBatchesLeaveTheMapsEqualToTheFullImage) {
  for (uint32_t seed = 1; seed <= 5; ++seed) {
    run(seed, 400);
    if (HasFatalFailure()) return;
  }
  // The run went through every kind of answer, or it proved less than it claims.
  for (const int status : {200, 400, 409, 422, 500, 507}) {
    EXPECT_GT(statuses[status], 0) << "no batch answered " << status;
  }
}

}  // namespace
}  // namespace sixguard::testing
