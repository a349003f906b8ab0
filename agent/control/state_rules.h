// The validation rules of DESIGN §3 and the effect of each event on the registry. Applying
// an event either changes the state (applied), finds it already in effect (unchanged), or
// refuses it (control_error.h; the API answers a conflict 409, an invalid value 422) and
// leaves the state untouched:
//   conflict with what is bound: network id bound to another (org, name), (org, name)
//       bound to another id, an app asked to change network or org, a machine id reused with
//       another app or address, a /112 or interface already owned by another machine, a
//       Flycast address already allocated for another app or network, a Flycast address
//       inside a machine's /112 (either way round: the datapath could not tell them apart);
//   invalid, well formed but wrong: malformed or non-6PN address, address on the wrong network,
//       unknown app or network, network id 0 or out of range, bad mode, a machine
//       interface that is lo or a configured uplink.
// (Names, interface names and strings are checked by the parser, events.h: malformed.)
//
// Decisions where DESIGN §3 is silent:
// - App names and machine ids are global (app.destroyed / machine.stopped carry only them):
//   an app name taken in another org is a 409.
// - app.created without "network" uses the org's "default" network, which must have been
//   created with network.created like any other (the platform creates it first): otherwise
//   422 unknown network.
// - app.destroyed cascades: the app's machines and the Flycast addresses targeting it are
//   removed too (their interfaces lose their sg_machines entries and fail closed). The app
//   is kept as destroyed, so its numeric id is never reused and a repeated app.destroyed is
//   "unchanged"; an app never seen is 422. The name can be created again (new app id).
// - machine.stopped of an unknown machine and flycast.released of an unknown address are
//   already in effect: "unchanged".
// - machine.started of a known machine with the same app and address but another interface
//   moves it there (the machine was restarted on a new tap): applied.
// - A malformed network id string or one out of 32-bit range is 422 (a bad value), like a
//   malformed address; a wrong JSON type for it (bool, float, object) is 400.
#pragma once

#include <cstddef>
#include <optional>
#include <span>

#include <string>
#include <vector>

#include "agent/control/events.h"
#include "agent/control/input_limits.h"
#include "agent/control/state.h"

namespace sixguard {

enum class EventEffect { kApplied, kUnchanged };

struct EventOutcome {
  EventEffect effect = EventEffect::kUnchanged;
  std::optional<EventError> error;  // set: the state was not changed
};

// What the rules need from the configuration.
struct EventRules {
  std::vector<std::string> uplinks;        // never machine interfaces (nor is lo)
  std::vector<Ipv6Prefix> infra_prefixes;  // no tenant network, /112 or Flycast inside one
};

// index: the event's position in its batch, for the error message.
EventOutcome apply_event(State &state, const Event &event, std::size_t index,
                         const EventRules &rules);

// Start-up check: a persisted tenant network that holds a configured infrastructure prefix
// (the operator changed infra_prefixes after the network was bound) would open that network's
// addresses to every other network. The error names the prefix and the network. Machines and
// Flycast addresses are on bound networks, so checking the networks covers them.
Status check_infra_prefixes(const State &state, std::span<const Ipv6Prefix> infra_prefixes);

}  // namespace sixguard
