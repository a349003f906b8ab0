// The monitor source of GET /v1/monitor: one thread reads the sg_events ring buffer and fans
// every drop/audit event out to the current subscribers. Each subscriber has a bounded queue;
// a subscriber that does not keep up loses its oldest events (and only its own), so a slow
// `sixguard monitor` can never stall the reader or the other subscribers.
#pragma once

#include <atomic>
#include <condition_variable>
#include <cstddef>
#include <deque>
#include <memory>
#include <mutex>
#include <thread>
#include <vector>

#include "maps/map_handle.h"
#include "agent/api/providers.h"
#include "agent/core/result.h"

namespace sixguard::daemon {

class MonitorHub final : public MonitorSource {
 public:
  static constexpr std::size_t kQueueLimit = 4096;

  // Starts the reader thread on the sg_events map.
  static Result<std::unique_ptr<MonitorHub>> start(maps::MapHandle events);
  ~MonitorHub() override;  // stops and joins the reader

  std::unique_ptr<MonitorSubscription> subscribe() override;

  struct Queue {
    std::mutex mutex;
    std::condition_variable ready;
    std::deque<sg_drop_event> events;
    uint64_t dropped = 0;
  };

 private:
  MonitorHub() = default;
  void publish(const sg_drop_event &event);
  void run();

  struct ReaderBox;  // the RingBufferReader, kept out of this header
  std::unique_ptr<ReaderBox> reader_;
  std::atomic<bool> stopping_{false};
  std::thread thread_;
  std::mutex subscribers_mutex_;
  std::vector<std::weak_ptr<Queue>> subscribers_;
};

}  // namespace sixguard::daemon
