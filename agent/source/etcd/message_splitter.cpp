#include "agent/source/etcd/message_splitter.h"

#include <cerrno>

#include "agent/source/etcd/types.h"

namespace sixguard::etcd {

Status MessageSplitter::feed(std::string_view bytes) {
  if (failed_) return make_error("watch stream: already broken", kProtocolCode);
  for (const char c : bytes) {
    if (depth_ == 0) {
      if (c == ' ' || c == '\n' || c == '\r' || c == '\t') continue;
      if (c != '{') {
        failed_ = true;
        return make_error("watch stream: unexpected byte between messages", kProtocolCode);
      }
    }
    current_ += c;
    if (current_.size() > max_message_bytes_) {
      failed_ = true;
      return make_error(
          "watch stream: a message over " + std::to_string(max_message_bytes_) + " bytes",
          kProtocolCode);
    }
    if (in_string_) {
      if (escaped_) {
        escaped_ = false;
      } else if (c == '\\') {
        escaped_ = true;
      } else if (c == '"') {
        in_string_ = false;
      }
      continue;
    }
    if (c == '"') {
      in_string_ = true;
    } else if (c == '{' || c == '[') {
      ++depth_;
    } else if (c == '}' || c == ']') {
      if (--depth_ == 0) {
        complete_.push_back(std::move(current_));
        current_.clear();
      }
    }
  }
  return {};
}

std::optional<std::string> MessageSplitter::next() {
  if (complete_.empty()) return std::nullopt;
  std::string message = std::move(complete_.front());
  complete_.pop_front();
  return message;
}

}  // namespace sixguard::etcd
