// `sixguard publish --etcd URLS [--prefix P] [--host H] [--cacert F --cert F --key F] FILE|-`
// (DESIGN §6): validates a batch against the etcd store and writes it as one guarded txn.
// Needs no agent.
//
// Exit status: 0 written (or already in effect); 1 refused (400/409/422, the message names
// the event and field); 2 bad usage or an unreadable file; 3 the store is unreachable (every
// endpoint failed, TLS refused, a timeout) or refused the txn itself (e.g. more operations
// than its --max-txn-ops).
#pragma once

#include <iosfwd>
#include <string>

namespace sixguard {

struct PublishArgs {
  std::string etcd;  // comma-separated URLs
  std::string prefix = "/sixguard/v1";
  std::string host;
  std::string cacert, cert, key;
  std::string file;  // or "-"
  bool json = false;
  int timeout_ms = 10000;
};

int cmd_publish(const PublishArgs &args, std::istream &in, std::ostream &out, std::ostream &err);

}  // namespace sixguard
