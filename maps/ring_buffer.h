// Reads sg_drop_event records from the sg_events ring buffer (BPF_MAP_TYPE_RINGBUF) for
// `sixguard monitor`. Owns the libbpf ring_buffer (and a handle on the map); move-only.
// Records shorter than sg_drop_event are not passed on: they are counted as rejected.
#pragma once

#include <chrono>
#include <cstdint>
#include <functional>
#include <memory>

#include "maps/map_handle.h"
#include "agent/core/result.h"
#include "bpf/include/sixguard_shared.h"

struct ring_buffer;  // libbpf

namespace sixguard::maps {

class RingBufferReader {
 public:
  using Callback = std::function<void(const sg_drop_event &)>;

  static Result<RingBufferReader> open(MapHandle handle, Callback callback);

  RingBufferReader(RingBufferReader &&) noexcept;
  RingBufferReader &operator=(RingBufferReader &&) noexcept;
  RingBufferReader(const RingBufferReader &) = delete;
  RingBufferReader &operator=(const RingBufferReader &) = delete;
  ~RingBufferReader();

  // Waits up to timeout for records and delivers all that are ready; returns how many were
  // delivered (0 on timeout). EINTR is not an error: it returns 0.
  Result<int> poll(std::chrono::milliseconds timeout);
  // Delivers what is ready without waiting.
  Result<int> consume();
  // For an external event loop: readable when records are ready (then call consume()).
  int epoll_fd() const;

  uint64_t rejected_records() const;  // records too short to be an sg_drop_event
  const std::string &name() const { return handle_.name(); }

 private:
  struct State;
  RingBufferReader(MapHandle handle, std::unique_ptr<State> state);
  MapHandle handle_;
  // Heap-allocated: libbpf keeps a pointer to it as the callback context, and it must not
  // move when the reader does.
  std::unique_ptr<State> state_;
};

}  // namespace sixguard::maps
