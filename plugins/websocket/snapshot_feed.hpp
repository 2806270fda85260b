// SnapshotFeed: a thread that asks guardian for the monitor's newest snapshots every
// interval and hands each new one (in time order) to a callback — the monitor keeps a
// ring, it does not publish every check, and the dashboard and /metrics want them all.
#pragma once

#include <chrono>
#include <condition_variable>
#include <functional>
#include <mutex>
#include <optional>
#include <string>
#include <thread>

#include <nlohmann/json.hpp>

namespace guardian::websocket {

class SnapshotFeed {
 public:
  using QueryFn = std::function<nlohmann::json(const nlohmann::json& what)>;
  using Callback = std::function<void(const nlohmann::json& snapshot)>;

  SnapshotFeed(QueryFn query, Callback callback, std::chrono::milliseconds interval);
  ~SnapshotFeed();  // stops and joins
  SnapshotFeed(const SnapshotFeed&) = delete;
  SnapshotFeed& operator=(const SnapshotFeed&) = delete;

  // One poll now (also what the thread does each interval).
  void poll();

 private:
  void loop();

  QueryFn query_;
  Callback callback_;
  std::chrono::milliseconds interval_;
  std::optional<double> last_epoch_s_;
  std::mutex mutex_;
  std::condition_variable cv_;
  bool stop_ = false;
  std::mutex poll_mutex_;
  std::thread thread_;
};

}  // namespace guardian::websocket
