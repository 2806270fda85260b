#include "snapshot_feed.hpp"

#include "telemetry.hpp"

namespace guardian::websocket {

SnapshotFeed::SnapshotFeed(QueryFn query, Callback callback, std::chrono::milliseconds interval)
    : query_(std::move(query)), callback_(std::move(callback)), interval_(interval) {
  thread_ = std::thread([this] { loop(); });
}

SnapshotFeed::~SnapshotFeed() {
  {
    std::lock_guard lock(mutex_);
    stop_ = true;
  }
  cv_.notify_all();
  thread_.join();
}

void SnapshotFeed::poll() {
  std::lock_guard poll_lock(poll_mutex_);
  // The newest few: the feed polls at least as often as the monitor's fastest level checks.
  const auto answer = query_({{"what", "snapshots"}, {"limit", 50}});
  if (!answer.is_object() || !answer.contains("snapshots") || !answer["snapshots"].is_array()) return;
  for (const auto& snapshot : answer["snapshots"]) {
    const auto epoch = parse_iso8601_epoch_s(snapshot.value("time", ""));
    if (!epoch || (last_epoch_s_ && *epoch <= *last_epoch_s_)) continue;
    last_epoch_s_ = epoch;
    callback_(snapshot);
  }
}

void SnapshotFeed::loop() {
  std::unique_lock lock(mutex_);
  while (!stop_) {
    lock.unlock();
    try {
      poll();
    } catch (...) {
      // A malformed answer must not end the feed; the next poll tries again.
    }
    lock.lock();
    cv_.wait_for(lock, interval_, [this] { return stop_; });
  }
}

}  // namespace guardian::websocket
