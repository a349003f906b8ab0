// The etcd v3 data the client speaks (sixguard::etcd): keys and values as raw bytes (the
// JSON gateway's base64 is the codec's business, json_codec.h), revisions as int64, and the
// error kinds a caller must tell apart. Only what sixguard uses of etcd's KV and Watch APIs.
#pragma once

#include <cerrno>
#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "agent/core/result.h"

namespace sixguard::etcd {

struct KeyValue {
  std::string key;    // raw bytes
  std::string value;  // raw bytes
  int64_t create_revision = 0;
  int64_t mod_revision = 0;
  int64_t version = 0;
  bool operator==(const KeyValue &) const = default;
};

// ---- range ----------------------------------------------------------------------------------

struct RangeRequest {
  std::string key;
  std::string range_end;  // empty: the single key `key`; see prefix_end()
  int64_t limit = 0;      // 0: no limit
  int64_t revision = 0;   // 0: the current revision
  bool count_only = false;
};

struct RangeResponse {
  int64_t revision = 0;  // the store's revision the answer was read at (header.revision)
  std::vector<KeyValue> kvs;
  bool more = false;  // a limited answer left keys out
  int64_t count = 0;  // keys in the whole range
};

// Every key of a prefix as of one revision, read page by page (RangeRequest::limit) at that
// revision, so the pages form one consistent snapshot.
struct Snapshot {
  int64_t revision = 0;
  std::vector<KeyValue> kvs;  // in key order
};

// The range_end that makes [key, range_end) every key starting with `prefix` ("\0" for an
// empty prefix: every key).
std::string prefix_end(const std::string &prefix);

// ---- txn ------------------------------------------------------------------------------------

enum class CompareTarget { kVersion, kCreateRevision, kModRevision, kValue };
enum class CompareResult { kEqual, kGreater, kLess, kNotEqual };

struct Compare {
  std::string key;
  CompareTarget target = CompareTarget::kModRevision;
  CompareResult result = CompareResult::kEqual;
  int64_t number = 0;      // version / create_revision / mod_revision
  std::string value = {};  // kValue
  // Non-empty: the compare holds for every key in [key, range_end) (none there: the
  // number compares with 0), e.g. "no key under the prefix modified after revision R".
  std::string range_end = {};
};

// The guards sixguard writes: "the key is still as I read it" and "the key does not exist".
Compare mod_revision_is(std::string key, int64_t mod_revision);
Compare key_absent(std::string key);  // create_revision == 0

struct Operation {
  enum class Kind { kPut, kDelete };
  Kind kind = Kind::kPut;
  std::string key;
  std::string value;      // kPut
  std::string range_end;  // kDelete: empty deletes the single key
};

Operation put(std::string key, std::string value);
Operation erase(std::string key);

struct Txn {
  std::vector<Compare> compare;
  std::vector<Operation> success;
  std::vector<Operation> failure;
};

struct TxnResponse {
  bool succeeded = false;  // every compare held and `success` was applied
  int64_t revision = 0;    // the store's revision after the txn (unchanged when it wrote nothing)
};

// ---- watch ----------------------------------------------------------------------------------

struct WatchEvent {
  enum class Type { kPut, kDelete };
  Type type = Type::kPut;
  KeyValue kv;  // a delete carries the key and its mod_revision (the deleting revision)
};

// One message of the watch stream.
struct WatchResponse {
  int64_t revision = 0;  // header.revision
  bool created = false;  // the first message: the watch exists
  bool canceled = false;
  int64_t compact_revision = 0;  // set: the start revision was compacted (see kCompacted)
  std::string cancel_reason;
  std::vector<WatchEvent> events;
  // The next message of the stream was read with this one (the reader is behind): a handler
  // may gather this message's events with the next ones and apply them together.
  bool more_buffered = false;
  // No events and not created/canceled: a progress notification (everything up to
  // `revision` was sent).
  bool is_progress() const { return events.empty() && !created && !canceled; }
};

// The events of one response grouped by their revision (one etcd transaction each), in
// order. etcd never splits one revision's events across responses (sixguard never asks for
// fragments), so each group is a whole transaction.
struct RevisionBatch {
  int64_t revision = 0;
  std::vector<WatchEvent> events;
};
std::vector<RevisionBatch> group_by_revision(const std::vector<WatchEvent> &events);

// ---- errors ---------------------------------------------------------------------------------

// What a caller does about an etcd error. Error::code is errno-style; these values mark the
// kinds that are not "try again later":
//   kUnavailable  connect/read/write failure, timeout, gateway 5xx, gRPC Unavailable: another
//                 endpoint or a later try may work (every other code);
//   kCompacted    the revision asked for was compacted (ESTALE): list again;
//   kTls          the TLS handshake failed, e.g. a client certificate the server refuses
//                 (EKEYREJECTED): configuration, not a transient fault;
//   kRejected     etcd refused the request itself (EINVAL), e.g. too many operations in a txn;
//   kProtocol     the answer is not what the gateway documents (EBADMSG);
//   kStopped      the caller asked the operation to stop (ECANCELED).
enum class ErrorKind { kUnavailable, kCompacted, kTls, kRejected, kProtocol, kStopped };

inline constexpr int kCompactedCode = ESTALE;
inline constexpr int kTlsCode = EKEYREJECTED;
inline constexpr int kRejectedCode = EINVAL;
inline constexpr int kProtocolCode = EBADMSG;
inline constexpr int kStoppedCode = ECANCELED;

ErrorKind error_kind(const Error &error);

}  // namespace sixguard::etcd
