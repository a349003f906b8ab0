#include "agent/daemon/monitor_hub.h"

#include <chrono>

#include "agent/daemon/log.h"
#include "maps/ring_buffer.h"

namespace sixguard::daemon {
namespace {

class QueueSubscription final : public MonitorSubscription {
 public:
  explicit QueueSubscription(std::shared_ptr<MonitorHub::Queue> queue) : queue_(std::move(queue)) {}

  std::optional<sg_drop_event> next(std::chrono::milliseconds timeout) override {
    std::unique_lock lock(queue_->mutex);
    if (!queue_->ready.wait_for(lock, timeout, [&] { return !queue_->events.empty(); })) {
      return std::nullopt;
    }
    sg_drop_event event = queue_->events.front();
    queue_->events.pop_front();
    return event;
  }

 private:
  std::shared_ptr<MonitorHub::Queue> queue_;  // the hub holds only a weak_ptr
};

}  // namespace

struct MonitorHub::ReaderBox {
  maps::RingBufferReader reader;
};

Result<std::unique_ptr<MonitorHub>> MonitorHub::start(maps::MapHandle events) {
  std::unique_ptr<MonitorHub> hub(new MonitorHub());
  MonitorHub *raw = hub.get();
  auto reader = maps::RingBufferReader::open(
      std::move(events), [raw](const sg_drop_event &event) { raw->publish(event); });
  if (!reader) return reader.error();
  hub->reader_ = std::make_unique<ReaderBox>(ReaderBox{std::move(*reader)});
  hub->thread_ = std::thread([raw] { raw->run(); });
  return hub;
}

MonitorHub::~MonitorHub() {
  stopping_ = true;
  if (thread_.joinable()) thread_.join();
}

void MonitorHub::run() {
  while (!stopping_) {
    // A short timeout so that stopping never waits long.
    auto polled = reader_->reader.poll(std::chrono::milliseconds(200));
    if (!polled) {
      log_warn("monitor", "reading sg_events: " + polled.error().describe());
      std::this_thread::sleep_for(std::chrono::milliseconds(500));
    }
  }
}

std::unique_ptr<MonitorSubscription> MonitorHub::subscribe() {
  auto queue = std::make_shared<Queue>();
  std::lock_guard lock(subscribers_mutex_);
  subscribers_.push_back(queue);
  return std::make_unique<QueueSubscription>(std::move(queue));
}

void MonitorHub::publish(const sg_drop_event &event) {
  std::lock_guard lock(subscribers_mutex_);
  for (auto it = subscribers_.begin(); it != subscribers_.end();) {
    auto queue = it->lock();
    if (!queue) {  // the subscriber went away
      it = subscribers_.erase(it);
      continue;
    }
    {
      std::lock_guard queue_lock(queue->mutex);
      if (queue->events.size() >= kQueueLimit) {
        queue->events.pop_front();
        queue->dropped++;
      }
      queue->events.push_back(event);
    }
    queue->ready.notify_one();
    ++it;
  }
}

}  // namespace sixguard::daemon
