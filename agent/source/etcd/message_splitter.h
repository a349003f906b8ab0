// Cuts the watch stream's bytes into its JSON messages. The gateway writes one JSON object
// per message (newline-separated), but HTTP chunks and TCP reads cut anywhere: a message may
// arrive in many pieces and one read may hold several. The splitter follows strings and
// escapes so that braces inside keys or values do not count, and bounds a message's size so a
// broken or hostile member cannot make the agent buffer without end.
#pragma once

#include <cstddef>
#include <deque>
#include <optional>
#include <string>
#include <string_view>

#include "agent/core/result.h"

namespace sixguard::etcd {

class MessageSplitter {
 public:
  explicit MessageSplitter(std::size_t max_message_bytes = 64u << 20)
      : max_message_bytes_(max_message_bytes) {}

  // Takes the next bytes of the stream. An error (bytes between messages that are not
  // whitespace, a message over the bound) is final: the stream cannot be resynchronised.
  Status feed(std::string_view bytes);
  // The next complete message, in order.
  std::optional<std::string> next();
  // Is another complete message ready (next() would give it)?
  bool has_next() const { return !complete_.empty(); }
  // Bytes of a message begun but not finished.
  std::size_t pending_bytes() const { return current_.size(); }

 private:
  std::size_t max_message_bytes_;
  std::deque<std::string> complete_;
  std::string current_;
  int depth_ = 0;
  bool in_string_ = false;
  bool escaped_ = false;
  bool failed_ = false;
};

}  // namespace sixguard::etcd
