// etcd's JSON gRPC gateway encoding: requests as the gateway reads them and its answers
// decoded into types.h. Bytes fields are base64; int64 fields come as JSON strings (or
// numbers) and are omitted when zero, as are false booleans.
#pragma once

#include <string>

#include <nlohmann/json.hpp>

#include "agent/core/result.h"
#include "agent/source/etcd/types.h"

namespace sixguard::etcd {

struct WatchRequest;

std::string encode_range(const RangeRequest &request);
std::string encode_txn(const Txn &txn);
std::string encode_compaction(int64_t revision);
std::string encode_watch_create(const WatchRequest &request);

Result<RangeResponse> decode_range(const nlohmann::json &body);
Result<TxnResponse> decode_txn(const nlohmann::json &body);
// One message of the watch stream: {"result": {...}} or {"error": {...}}. A cancel for a
// compacted revision decodes fine (compact_revision set); the client turns it into
// kCompacted after handing it to the caller.
Result<WatchResponse> decode_watch_message(const nlohmann::json &message);

// The error a non-200 gateway answer means: {"error","message","code"} with a gRPC code.
// OutOfRange "required revision has been compacted" is kCompacted; Unavailable,
// DeadlineExceeded, Aborted and an HTTP 5xx without a known code are kUnavailable (another
// member may serve it); other codes are kRejected.
Error gateway_error(const std::string &url, unsigned http_status, const std::string &body);

}  // namespace sixguard::etcd
