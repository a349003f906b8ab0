// The key layout of DESIGN §6: where each object of the platform lives in etcd, and what its
// value must say. Shared by the agent's etcd source (which reads keys back into §3 events)
// and `sixguard publish` (which writes events as keys), so the two can never disagree.
//
//   <prefix>/networks/<org>/<network>           network.created
//   <prefix>/network-ids/<id, 8 hex digits>     {"org","network"}: the ID's binding
//   <prefix>/apps/<app>                         app.created
//   <prefix>/modes/<org>/<network>              network.mode
//   <prefix>/flycast/<address>                  flycast.allocated
//   <prefix>/hosts/<host>/machines/<machine>    machine.started
//
// Decisions where the contract is silent (each keeps one object at exactly one key):
// - Names in keys follow the §3 name rules; a host is 1-253 bytes of letters, digits, '-',
//   '_' and '.', starting with a letter or digit, without "..": a Kubernetes node name fits.
// - A Flycast key holds the address in its RFC 5952 text (lower case, "::" compressed), and a
//   network-ids key the ID as 8 lower-case hex digits: any other spelling of the same object
//   is an invalid key, never a second copy of it.
// - A value is exactly one JSON object (no array, no NDJSON) under the §3 input limits, whose
//   fields agree with its key: key apps/a with a value for app b is invalid. A machine value
//   may carry "host"; when it does, it must name the key's host.
#pragma once

#include <cstddef>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

#include "agent/core/address.h"
#include "agent/control/events.h"
#include "agent/core/result.h"

namespace sixguard {

inline constexpr std::string_view kDefaultEtcdPrefix = "/sixguard/v1";
// Longer keys are refused before they are looked at (the longest valid key is far shorter).
inline constexpr std::size_t kMaxEtcdKeyBytes = 1024;
inline constexpr std::size_t kMaxHostBytes = 253;

enum class EtcdKeyKind { kNetwork, kNetworkId, kApp, kMode, kFlycast, kMachine };

// A parsed key: the fields its kind uses, the others empty.
struct EtcdKey {
  EtcdKeyKind kind = EtcdKeyKind::kNetwork;
  std::string org;          // networks/, modes/
  std::string network;      // networks/, modes/
  uint32_t network_id = 0;  // network-ids/
  std::string app;          // apps/
  Ipv6 address;             // flycast/
  std::string host;         // hosts/
  std::string machine;      // hosts/<host>/machines/
  bool operator==(const EtcdKey &) const = default;
};

// A prefix: starts with '/', at least one segment, no trailing '/', no empty, "." or ".." segment,
// printable ASCII.
Status check_etcd_prefix(std::string_view prefix);
bool valid_host_name(std::string_view host);

// The key's text under prefix (the inverse of parse_etcd_key).
std::string etcd_key_text(std::string_view prefix, const EtcdKey &key);
// Where the keys of every host begin ("<prefix>/hosts/"), and those of one host.
std::string etcd_hosts_prefix(std::string_view prefix);
std::string etcd_host_prefix(std::string_view prefix, std::string_view host);

// Parses a key under prefix; the error says why it is not a §6 key (printable, bounded).
Result<EtcdKey> parse_etcd_key(std::string_view prefix, std::string_view key);

// A key with its value read back: the §3 event that creates the object, or for a network-ids
// key the (org, network) it binds.
struct EtcdEntry {
  EtcdKey key;
  std::optional<Event> event;            // every kind but kNetworkId
  std::string bound_org, bound_network;  // kNetworkId
};
Result<EtcdEntry> parse_etcd_entry(std::string_view prefix, std::string_view key,
                                   std::string_view value);

// The event that deleting the key means (§6): app.destroyed, machine.stopped,
// flycast.released, network.mode back to enforce; nullopt for networks/ and network-ids/,
// which are never deleted.
std::optional<Event> etcd_deletion_event(const EtcdKey &key);

// Where publish stores an event that creates an object (network.created, app.created,
// network.mode, flycast.allocated, machine.started with its host); other events delete
// keys and have no key of their own (etcd_key_deleted_by).
Result<EtcdKey> etcd_key_for_event(const Event &event, std::string_view host = {});
// The key an app.destroyed, machine.stopped (with host) or flycast.released removes.
Result<EtcdKey> etcd_key_deleted_by(const Event &event, std::string_view host = {});
// The key of each kind of object.
EtcdKey etcd_network_key(std::string_view org, std::string_view network);
EtcdKey etcd_app_key(std::string_view app);
EtcdKey etcd_machine_key(std::string_view host, std::string_view machine);
EtcdKey etcd_flycast_key(const Ipv6 &address);
// The network-ids key for an id and its value {"org","network"}.
EtcdKey etcd_network_id_key(uint32_t id);
std::string etcd_network_id_value(std::string_view org, std::string_view network);
// An event's value as stored: the JSON of the event with its own fields only (plus "host"
// for a machine).
std::string etcd_value_for_event(const Event &event, std::string_view host = {});
// The id a network.created names, or nullopt when it is none (the rules refuse it then).
std::optional<uint32_t> etcd_event_network_id(const Event &event);

}  // namespace sixguard
