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
    ec = {};
    for (auto it = boost::asio::buffer_sequence_begin(buffers);
         it != boost::asio::buffer_sequence_end(buffers); ++it) {
      boost::asio::mutable_buffer buffer(*it);
      if (buffer.size() == 0) continue;
      for (;;) {
        if (!wait(POLLIN, ec)) return 0;
        const ssize_t got = ::recv(fd_.get(), buffer.data(), buffer.size(), MSG_DONTWAIT);
        if (got > 0) return static_cast<std::size_t>(got);
        if (got == 0) {
          ec = boost::asio::error::eof;
          return 0;
        }
        if (errno == EAGAIN || errno == EINTR) continue;
        ec.assign(errno, boost::system::system_category());
        return 0;
      }
    }
    return 0;
  }

  template <typename Buffers>
  std::size_t write_some(const Buffers &buffers, boost::system::error_code &ec) {
    ec = {};
    for (auto it = boost::asio::buffer_sequence_begin(buffers);
         it != boost::asio::buffer_sequence_end(buffers); ++it) {
      boost::asio::const_buffer buffer(*it);
      if (buffer.size() == 0) continue;
      for (;;) {
        if (!wait(POLLOUT, ec)) return 0;
        const ssize_t sent =
            ::send(fd_.get(), buffer.data(), buffer.size(), MSG_DONTWAIT | MSG_NOSIGNAL);
        if (sent >= 0) return static_cast<std::size_t>(sent);
        if (errno == EAGAIN || errno == EINTR) continue;
        ec.assign(errno, boost::system::system_category());
        return 0;
      }
    }
    return 0;
  }

  template <typename Buffers>
  std::size_t read_some(const Buffers &buffers) {
    boost::system::error_code ec;
    const std::size_t n = read_some(buffers, ec);
    if (ec) throw boost::system::system_error(ec);
    return n;
  }
  template <typename Buffers>
  std::size_t write_some(const Buffers &buffers) {
    boost::system::error_code ec;
    const std::size_t n = write_some(buffers, ec);
    if (ec) throw boost::system::system_error(ec);
    return n;
  }

 private:
  Fd fd_;
  int stop_fd_;
  int timeout_ms_;
};

}  // namespace sixguard
