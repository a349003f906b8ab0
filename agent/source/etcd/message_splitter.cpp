#include "agent/source/etcd/message_splitter.h"

#include <cerrno>

#include "agent/source/etcd/types.h"

namespace sixguard::etcd {

Status MessageSplitter::feed(std::string_view bytes) {
  if (failed_) return make_error("watch stream: already broken", kProtocolCode);
  // The bytes of the message being read are copied a run at a time (up to its end, or the
  // end of this feed), and a string's body is skipped to its next quote or backslash: a
  // watch message is mostly base64 strings.
  std::size_t start = 0;  // where this feed's bytes of the current message begin
  const auto take = [&](std::size_t end) -> Status {
    if (current_.size() + (end - start) > max_message_bytes_) {
      failed_ = true;
      return make_error(
          "watch stream: a message over " + std::to_string(max_message_bytes_) + " bytes",
          kProtocolCode);
    }
    current_.append(bytes.substr(start, end - start));
    return {};
  };
  std::size_t i = 0;
  while (i < bytes.size()) {
    if (depth_ == 0) {
      const char c = bytes[i];
      if (c == ' ' || c == '\n' || c == '\r' || c == '\t') {
        ++i;
        continue;
      }
      if (c != '{') {
        failed_ = true;
        return make_error("watch stream: unexpected byte between messages", kProtocolCode);
      }
      start = i++;
      depth_ = 1;
      continue;
    }
    if (in_string_) {
      if (escaped_) {
        escaped_ = false;
        ++i;
        continue;
      }
      const std::size_t stop = bytes.find_first_of("\"\\", i);
      if (stop == std::string_view::npos) {
        i = bytes.size();
        break;
      }
      if (bytes[stop] == '"') {
        in_string_ = false;
      } else {
        escaped_ = true;
      }
      i = stop + 1;
      continue;
    }
    const char c = bytes[i++];
    if (c == '"') {
      in_string_ = true;
    } else if (c == '{' || c == '[') {
      ++depth_;
    } else if ((c == '}' || c == ']') && --depth_ == 0) {
      if (auto taken = take(i); !taken) return taken;
      complete_.push_back(std::move(current_));
      current_.clear();
    }
  }
  if (depth_ > 0) return take(bytes.size());
  return {};
}

std::optional<std::string> MessageSplitter::next() {
  if (complete_.empty()) return std::nullopt;
  std::string message = std::move(complete_.front());
  complete_.pop_front();
  return message;
}

}  // namespace sixguard::etcd
