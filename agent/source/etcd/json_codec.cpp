#include "agent/source/etcd/json_codec.h"

#include <cerrno>
#include <charconv>
#include <iterator>

#include "agent/source/etcd/base64.h"
#include "agent/source/etcd/client.h"

namespace sixguard::etcd {

namespace {

using nlohmann::json;

Error protocol_error(const std::string &what) {
  return make_error("etcd answer: " + what, kProtocolCode);
}

// An int64 field: a JSON string of digits (the gateway's form), a number, or absent (0).
Result<int64_t> int_field(const json &object, const char *name) {
  const auto it = object.find(name);
  if (it == object.end() || it->is_null()) return int64_t{0};
  if (it->is_number_integer()) return it->get<int64_t>();
  if (it->is_string()) {
    const auto &text = it->get_ref<const std::string &>();
    int64_t value = 0;
    const auto [end, ec] = std::from_chars(text.data(), text.data() + text.size(), value);
    if (ec == std::errc() && end == text.data() + text.size()) return value;
  }
  return protocol_error(std::string("field \"") + name + "\" is not an int64");
}

Result<bool> bool_field(const json &object, const char *name) {
  const auto it = object.find(name);
  if (it == object.end() || it->is_null()) return false;
  if (!it->is_boolean())
    return protocol_error(std::string("field \"") + name + "\" is not a boolean");
  return it->get<bool>();
}

Result<std::string> bytes_field(const json &object, const char *name) {
  const auto it = object.find(name);
  if (it == object.end() || it->is_null()) return std::string();
  if (!it->is_string())
    return protocol_error(std::string("field \"") + name + "\" is not a string");
  auto bytes = base64_decode(it->get_ref<const std::string &>());
  if (!bytes)
    return protocol_error(std::string("field \"") + name + "\": " + bytes.error().message);
  return bytes;
}

Result<int64_t> header_revision(const json &body) {
  const auto it = body.find("header");
  if (it == body.end() || !it->is_object()) return int64_t{0};
  return int_field(*it, "revision");
}

Result<KeyValue> decode_kv(const json &object) {
  if (!object.is_object()) return protocol_error("a kv is not an object");
  KeyValue kv;
  auto key = bytes_field(object, "key");
  auto value = bytes_field(object, "value");
  auto create = int_field(object, "create_revision");
  auto mod = int_field(object, "mod_revision");
  auto version = int_field(object, "version");
  for (const Error *e : {key ? nullptr : &key.error(), value ? nullptr : &value.error(),
                         create ? nullptr : &create.error(), mod ? nullptr : &mod.error(),
                         version ? nullptr : &version.error()}) {
    if (e) return *e;
  }
  kv.key = std::move(*key);
  kv.value = std::move(*value);
  kv.create_revision = *create;
  kv.mod_revision = *mod;
  kv.version = *version;
  return kv;
}

// The gateway's enum names, in the order of CompareTarget and CompareResult.
constexpr const char *kTargetNames[] = {"VERSION", "CREATE", "MOD", "VALUE"};
constexpr const char *kResultNames[] = {"EQUAL", "GREATER", "LESS", "NOT_EQUAL"};
static_assert(std::size(kTargetNames) == static_cast<std::size_t>(CompareTarget::kValue) + 1);
static_assert(std::size(kResultNames) == static_cast<std::size_t>(CompareResult::kNotEqual) + 1);

json encode_compare(const Compare &compare) {
  json out{{"key", base64_encode(compare.key)},
           {"target", kTargetNames[static_cast<std::size_t>(compare.target)]},
           {"result", kResultNames[static_cast<std::size_t>(compare.result)]}};
  if (!compare.range_end.empty()) out["range_end"] = base64_encode(compare.range_end);
  const std::string number = std::to_string(compare.number);
  switch (compare.target) {
    case CompareTarget::kVersion:
      out["version"] = number;
      break;
    case CompareTarget::kCreateRevision:
      out["create_revision"] = number;
      break;
    case CompareTarget::kModRevision:
      out["mod_revision"] = number;
      break;
    case CompareTarget::kValue:
      out["value"] = base64_encode(compare.value);
      break;
  }
  return out;
}

json encode_operation(const Operation &operation) {
  if (operation.kind == Operation::Kind::kPut) {
    return json{
        {"request_put",
         {{"key", base64_encode(operation.key)}, {"value", base64_encode(operation.value)}}}};
  }
  json request{{"key", base64_encode(operation.key)}};
  if (!operation.range_end.empty()) request["range_end"] = base64_encode(operation.range_end);
  return json{{"request_delete_range", std::move(request)}};
}

json encode_operations(const std::vector<Operation> &operations) {
  json out = json::array();
  for (const auto &operation : operations) out.push_back(encode_operation(operation));
  return out;
}

}  // namespace

std::string encode_range(const RangeRequest &request) {
  json out{{"key", base64_encode(request.key)}};
  if (!request.range_end.empty()) out["range_end"] = base64_encode(request.range_end);
  if (request.limit > 0) out["limit"] = std::to_string(request.limit);
  if (request.revision > 0) out["revision"] = std::to_string(request.revision);
  if (request.count_only) out["count_only"] = true;
  return out.dump();
}

std::string encode_txn(const Txn &txn) {
  json compares = json::array();
  for (const auto &compare : txn.compare) compares.push_back(encode_compare(compare));
  return json{{"compare", std::move(compares)},
              {"success", encode_operations(txn.success)},
              {"failure", encode_operations(txn.failure)}}
      .dump();
}

std::string encode_compaction(int64_t revision) {
  // physical: the answer waits until the compaction is done, so a test that compacts and
  // then watches sees it.
  return json{{"revision", std::to_string(revision)}, {"physical", true}}.dump();
}

std::string encode_watch_create(const WatchRequest &request) {
  json create{{"key", base64_encode(request.key)}};
  if (!request.range_end.empty()) create["range_end"] = base64_encode(request.range_end);
  if (request.start_revision > 0) create["start_revision"] = std::to_string(request.start_revision);
  if (request.progress_notify) create["progress_notify"] = true;
  return json{{"create_request", std::move(create)}}.dump();
}

Result<RangeResponse> decode_range(const json &body) {
  if (!body.is_object()) return protocol_error("range answer is not an object");
  RangeResponse response;
  auto revision = header_revision(body);
  if (!revision) return revision.error();
  response.revision = *revision;
  if (response.revision <= 0) return protocol_error("range answer without header.revision");
  auto more = bool_field(body, "more");
  if (!more) return more.error();
  response.more = *more;
  auto count = int_field(body, "count");
  if (!count) return count.error();
  response.count = *count;
  const auto kvs = body.find("kvs");
  if (kvs != body.end() && !kvs->is_null()) {
    if (!kvs->is_array()) return protocol_error("\"kvs\" is not an array");
    response.kvs.reserve(kvs->size());
    for (const auto &item : *kvs) {
      auto kv = decode_kv(item);
      if (!kv) return kv.error();
      response.kvs.push_back(std::move(*kv));
    }
  }
  return response;
}

Result<TxnResponse> decode_txn(const json &body) {
  if (!body.is_object()) return protocol_error("txn answer is not an object");
  TxnResponse response;
  auto revision = header_revision(body);
  if (!revision) return revision.error();
  if (*revision <= 0) return protocol_error("txn answer without header.revision");
  response.revision = *revision;
  auto succeeded = bool_field(body, "succeeded");
  if (!succeeded) return succeeded.error();
  response.succeeded = *succeeded;
  return response;
}

Result<WatchResponse> decode_watch_message(const json &message) {
  if (!message.is_object()) return protocol_error("watch message is not an object");
  if (const auto error = message.find("error"); error != message.end()) {
    // grpc-gateway's stream error: {"error": {"grpc_code", "http_code", "message", ...}}.
    const std::string text =
        error->is_object() && error->contains("message") && (*error)["message"].is_string()
            ? (*error)["message"].get<std::string>()
            : error->dump();
    return make_error("etcd watch stream error: " + text, ECONNRESET);
  }
  const auto result = message.find("result");
  if (result == message.end() || !result->is_object()) {
    return protocol_error("watch message without \"result\"");
  }
  WatchResponse response;
  auto revision = header_revision(*result);
  auto created = bool_field(*result, "created");
  auto canceled = bool_field(*result, "canceled");
  auto compact = int_field(*result, "compact_revision");
  for (const Error *e :
       {revision ? nullptr : &revision.error(), created ? nullptr : &created.error(),
        canceled ? nullptr : &canceled.error(), compact ? nullptr : &compact.error()}) {
    if (e) return *e;
  }
  response.revision = *revision;
  response.created = *created;
  response.canceled = *canceled;
  response.compact_revision = *compact;
  if (const auto reason = result->find("cancel_reason");
      reason != result->end() && reason->is_string()) {
    response.cancel_reason = reason->get<std::string>();
  }
  const auto events = result->find("events");
  if (events != result->end() && !events->is_null()) {
    if (!events->is_array()) return protocol_error("\"events\" is not an array");
    for (const auto &item : *events) {
      if (!item.is_object()) return protocol_error("a watch event is not an object");
      WatchEvent event;
      const auto type = item.find("type");
      if (type == item.end() || type->is_null() || *type == "PUT" || *type == 0) {
        event.type = WatchEvent::Type::kPut;
      } else if (*type == "DELETE" || *type == 1) {
        event.type = WatchEvent::Type::kDelete;
      } else {
        return protocol_error("unknown watch event type " + type->dump());
      }
      const auto kv = item.find("kv");
      if (kv == item.end() || !kv->is_object()) return protocol_error("watch event without \"kv\"");
      auto decoded = decode_kv(*kv);
      if (!decoded) return decoded.error();
      event.kv = std::move(*decoded);
      response.events.push_back(std::move(event));
    }
  }
  return response;
}

Error gateway_error(const std::string &url, unsigned http_status, const std::string &body) {
  const auto parsed = json::parse(body, nullptr, false);
  std::string text;
  int grpc_code = -1;
  if (parsed.is_object()) {
    for (const char *field : {"message", "error"}) {
      if (parsed.contains(field) && parsed[field].is_string()) {
        text = parsed[field].get<std::string>();
        break;
      }
    }
    if (parsed.contains("code") && parsed["code"].is_number_integer())
      grpc_code = parsed["code"].get<int>();
  }
  if (text.empty()) text = body.substr(0, 512);
  const std::string message =
      "etcd at " + url + " answered HTTP " + std::to_string(http_status) + ": " + text;
  constexpr int kGrpcDeadlineExceeded = 4, kGrpcAborted = 10, kGrpcOutOfRange = 11,
                kGrpcUnavailable = 14;
  if (grpc_code == kGrpcOutOfRange && text.find("compacted") != std::string::npos) {
    return make_error(message, kCompactedCode);
  }
  if (grpc_code == kGrpcUnavailable || grpc_code == kGrpcDeadlineExceeded ||
      grpc_code == kGrpcAborted || (grpc_code < 0 && http_status >= 500)) {
    return make_error(message, EAGAIN);
  }
  return make_error(message, kRejectedCode);
}

}  // namespace sixguard::etcd
