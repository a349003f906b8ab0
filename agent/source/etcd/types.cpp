#include "agent/source/etcd/types.h"

namespace sixguard::etcd {

std::string prefix_end(const std::string &prefix) {
  std::string end = prefix;
  // The smallest key greater than every key starting with prefix: increment the last byte
  // that is not 0xff and drop what follows it.
  while (!end.empty()) {
    auto &last = reinterpret_cast<unsigned char &>(end.back());
    if (last < 0xff) {
      ++last;
      return end;
    }
    end.pop_back();
  }
  return std::string(1, '\0');  // all keys
}

Compare mod_revision_is(std::string key, int64_t mod_revision) {
  return Compare{.key = std::move(key),
                 .target = CompareTarget::kModRevision,
                 .result = CompareResult::kEqual,
                 .number = mod_revision,
                 .value = {}};
}

Compare key_absent(std::string key) {
  return Compare{.key = std::move(key),
                 .target = CompareTarget::kCreateRevision,
                 .result = CompareResult::kEqual,
                 .number = 0,
                 .value = {}};
}

Operation put(std::string key, std::string value) {
  return Operation{.kind = Operation::Kind::kPut,
                   .key = std::move(key),
                   .value = std::move(value),
                   .range_end = {}};
}

Operation erase(std::string key) {
  return Operation{
      .kind = Operation::Kind::kDelete, .key = std::move(key), .value = {}, .range_end = {}};
}

std::vector<RevisionBatch> group_by_revision(const std::vector<WatchEvent> &events) {
  std::vector<RevisionBatch> batches;
  for (const auto &event : events) {
    if (batches.empty() || batches.back().revision != event.kv.mod_revision) {
      batches.push_back(RevisionBatch{.revision = event.kv.mod_revision, .events = {}});
    }
    batches.back().events.push_back(event);
  }
  return batches;
}

ErrorKind error_kind(const Error &error) {
  switch (error.code) {
    case kCompactedCode:
      return ErrorKind::kCompacted;
    case kTlsCode:
      return ErrorKind::kTls;
    case kRejectedCode:
      return ErrorKind::kRejected;
    case kProtocolCode:
      return ErrorKind::kProtocol;
    case kStoppedCode:
      return ErrorKind::kStopped;
    default:
      return ErrorKind::kUnavailable;
  }
}

}  // namespace sixguard::etcd
