// A connected socket as a Beast SyncReadStream/SyncWriteStream, for the HTTP server's stream
// threads (/v1/monitor writes from its own thread, through a dup of the connection): every
// wait is bounded by a timeout (the write deadline: a peer that stops reading is dropped) and
// ends at once when the server's stop eventfd becomes readable.
#pragma once

#include <poll.h>
#include <sys/socket.h>

#include <boost/asio/buffer.hpp>
#include <boost/asio/error.hpp>
#include <boost/system/error_code.hpp>
#include <boost/system/system_error.hpp>

#include "agent/core/fd.h"

namespace sixguard {

class FdStream {
 public:
  FdStream(Fd fd, int stop_fd, int timeout_ms)
      : fd_(std::move(fd)), stop_fd_(stop_fd), timeout_ms_(timeout_ms) {}

  int native_handle() const { return fd_.get(); }

  // Waits until fd is ready for events; false with ec set on stop, timeout or error.
  bool wait(short events, boost::system::error_code &ec) {
    pollfd fds[2] = {{fd_.get(), events, 0}, {stop_fd_, POLLIN, 0}};
    const int ready = ::poll(fds, 2, timeout_ms_);
    if (ready < 0) {
      ec.assign(errno, boost::system::system_category());
      return false;
    }
    if (ready == 0) {
      ec = boost::asio::error::timed_out;
      return false;
    }
    if (fds[1].revents) {
      ec = boost::asio::error::operation_aborted;
      return false;
    }
    return true;
  }

  template <typename Buffers>
  std::size_t read_some(const Buffers &buffers, boost::system::error_code &ec) {
    return transfer_some<boost::asio::mutable_buffer>(
        buffers, POLLIN, ec, [this](boost::asio::mutable_buffer buffer) {
          return ::recv(fd_.get(), buffer.data(), buffer.size(), MSG_DONTWAIT);
        });
  }

  template <typename Buffers>
  std::size_t write_some(const Buffers &buffers, boost::system::error_code &ec) {
    return transfer_some<boost::asio::const_buffer>(
        buffers, POLLOUT, ec, [this](boost::asio::const_buffer buffer) {
          return ::send(fd_.get(), buffer.data(), buffer.size(), MSG_DONTWAIT | MSG_NOSIGNAL);
        });
  }

  template <typename Buffers>
  std::size_t read_some(const Buffers &buffers) {
    return or_throw([&](boost::system::error_code &ec) { return read_some(buffers, ec); });
  }
  template <typename Buffers>
  std::size_t write_some(const Buffers &buffers) {
    return or_throw([&](boost::system::error_code &ec) { return write_some(buffers, ec); });
  }

 private:
  // The one loop behind read_some and write_some: moves bytes through the first non-empty
  // buffer with `io` (recv or send), waiting for `events` while the socket would block. A
  // recv of 0 bytes is the peer's end (eof); a send of 0 bytes is not an error.
  template <typename Buffer, typename Buffers, typename Io>
  std::size_t transfer_some(const Buffers &buffers, short events, boost::system::error_code &ec,
                            Io io) {
    ec = {};
    for (auto it = boost::asio::buffer_sequence_begin(buffers);
         it != boost::asio::buffer_sequence_end(buffers); ++it) {
      Buffer buffer(*it);
      if (buffer.size() == 0) continue;
      for (;;) {
        if (!wait(events, ec)) return 0;
        const ssize_t moved = io(buffer);
        if (moved > 0) return static_cast<std::size_t>(moved);
        if (moved == 0) {
          if (events == POLLIN) ec = boost::asio::error::eof;
          return 0;
        }
        if (errno == EAGAIN || errno == EINTR) continue;
        ec.assign(errno, boost::system::system_category());
        return 0;
      }
    }
    return 0;
  }

  // Beast's throwing form of an operation that reports through an error_code.
  template <typename Operation>
  static std::size_t or_throw(Operation operation) {
    boost::system::error_code ec;
    const std::size_t n = operation(ec);
    if (ec) throw boost::system::system_error(ec);
    return n;
  }

  Fd fd_;
  int stop_fd_;
  int timeout_ms_;
};

}  // namespace sixguard
