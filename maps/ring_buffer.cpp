#include "maps/ring_buffer.h"

#include <bpf/libbpf.h>
#include <linux/bpf.h>

#include <cerrno>
#include <cstring>

#include "maps/map_error.h"

namespace sixguard::maps {

struct RingBufferReader::State {
  Callback callback;
  uint64_t rejected = 0;
  struct ring_buffer *ring = nullptr;

  ~State() {
    if (ring != nullptr) ring_buffer__free(ring);
  }

  static int on_sample(void *context, void *data, size_t size) {
    auto *state = static_cast<State *>(context);
    if (size < sizeof(sg_drop_event)) {
      ++state->rejected;
      return 0;  // keep consuming: one bad record must not stop the stream
    }
    sg_drop_event event;
    std::memcpy(&event, data, sizeof(event));  // ring records are only 8-byte aligned
    state->callback(event);
    return 0;
  }
};

Result<RingBufferReader> RingBufferReader::open(MapHandle handle, Callback callback) {
  if (handle.info().type != BPF_MAP_TYPE_RINGBUF) {
    return map_error(handle.name(),
                     "is a " + map_type_name(handle.info().type) + " map, expected ringbuf",
                     EINVAL);
  }
  if (!callback) return map_error(handle.name(), "ring buffer reader without callback", EINVAL);
  auto state = std::make_unique<State>();
  state->callback = std::move(callback);
  state->ring = ring_buffer__new(handle.fd(), &State::on_sample, state.get(), nullptr);
  if (state->ring == nullptr) return map_error(handle.name(), "ring_buffer__new", errno);
  return RingBufferReader(std::move(handle), std::move(state));
}

RingBufferReader::RingBufferReader(MapHandle handle, std::unique_ptr<State> state)
    : handle_(std::move(handle)), state_(std::move(state)) {}
RingBufferReader::RingBufferReader(RingBufferReader &&) noexcept = default;
RingBufferReader &RingBufferReader::operator=(RingBufferReader &&) noexcept = default;
RingBufferReader::~RingBufferReader() = default;

Result<int> RingBufferReader::poll(std::chrono::milliseconds timeout) {
  int delivered = ring_buffer__poll(state_->ring, static_cast<int>(timeout.count()));
  if (delivered == -EINTR) return 0;
  if (delivered < 0) return map_error(name(), "ring_buffer__poll", -delivered);
  return delivered;
}

Result<int> RingBufferReader::consume() {
  int delivered = ring_buffer__consume(state_->ring);
  if (delivered < 0) return map_error(name(), "ring_buffer__consume", -delivered);
  return delivered;
}

int RingBufferReader::epoll_fd() const {
  return ring_buffer__epoll_fd(state_->ring);
}

uint64_t RingBufferReader::rejected_records() const {
  return state_->rejected;
}

}  // namespace sixguard::maps
