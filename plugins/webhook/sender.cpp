#include "sender.hpp"

#include <algorithm>

#include "guardian/plugin.h"

namespace guardian::webhook {

using Clock = std::chrono::steady_clock;

Sender::Sender(SenderOptions options, LogFn log, std::function<void()> tick)
    : options_(std::move(options)), log_(std::move(log)), tick_(std::move(tick)) {
  thread_ = std::thread([this] { loop(); });
}

Sender::~Sender() { stop(std::chrono::milliseconds(0)); }

void Sender::enqueue(std::string body, std::string what) {
  std::string dropped;
  {
    std::lock_guard lock(mutex_);
    if (stopping_) return;
    if (queue_.size() >= options_.max_queue) {
      dropped = queue_.front().what;
      queue_.pop_front();
      ++stats_.dropped;
    }
    queue_.push_back({std::move(body), std::move(what)});
    stats_.queued = queue_.size();
  }
  cv_.notify_all();
  if (!dropped.empty() && log_)
    log_(GUARDIAN_LOG_WARNING, "queue full (" + std::to_string(options_.max_queue) + "): dropped the oldest delivery, " +
                                   dropped + "; raise [plugins.webhook] max_queue or check the receiver");
}

void Sender::stop(std::chrono::milliseconds drain) {
  {
    std::lock_guard lock(mutex_);
    if (!thread_.joinable()) return;
    if (!stopping_) {
      stopping_ = true;
      drain_deadline_ = Clock::now() + drain;
    }
  }
  cv_.notify_all();
  thread_.join();
}

SenderStats Sender::stats() const {
  std::lock_guard lock(mutex_);
  return stats_;
}

bool Sender::deliver(Item& item) {
  auto backoff = options_.backoff_initial;
  for (int attempt = 0;; ++attempt) {
    Clock::time_point deadline;
    bool stopping = false;
    {
      std::lock_guard lock(mutex_);
      stopping = stopping_;
      deadline = drain_deadline_;
    }
    auto timeout = options_.timeout;
    if (stopping) {
      const auto left = std::chrono::duration_cast<std::chrono::milliseconds>(deadline - Clock::now());
      if (left.count() <= 0) return false;
      timeout = std::min(timeout, left);
    }
    const PostResult result = http_post(options_.url, item.body, options_.content_type, options_.headers, timeout, options_.tls);
    if (result.ok()) return true;
    const std::string why = !result.error.empty()
                                ? result.error
                                : "HTTP " + std::to_string(result.status) + (result.body.empty() ? "" : ": " + result.body);
    {
      std::lock_guard lock(mutex_);
      stopping = stopping_;
    }
    // 4xx other than 408/429 will not get better by retrying the same body.
    const bool permanent = result.error.empty() && result.status >= 400 && result.status < 500 &&
                           result.status != 408 && result.status != 429;
    if (permanent || attempt >= options_.retries || stopping) {
      if (log_)
        log_(GUARDIAN_LOG_ERROR, "giving up on " + item.what + " after " + std::to_string(attempt + 1) +
                                     " attempt(s): " + why + " (receiver " + options_.url.host + ":" +
                                     options_.url.port + options_.url.target + ")");
      return false;
    }
    if (log_)
      log_(GUARDIAN_LOG_WARNING, "delivering " + item.what + " failed (" + why + "); retry " +
                                     std::to_string(attempt + 1) + "/" + std::to_string(options_.retries) + " in " +
                                     std::to_string(backoff.count()) + " ms");
    std::unique_lock lock(mutex_);
    ++stats_.retries;
    cv_.wait_for(lock, backoff, [this] { return stopping_; });
    backoff = std::min(options_.backoff_max, backoff * 2);
  }
}

void Sender::loop() {
  auto next_tick = Clock::now() + options_.tick_interval;
  std::unique_lock lock(mutex_);
  for (;;) {
    if (queue_.empty()) {
      if (stopping_) break;
      if (options_.tick_interval.count() > 0 && tick_) {
        cv_.wait_until(lock, next_tick, [this] { return stopping_ || !queue_.empty(); });
        if (!stopping_ && queue_.empty() && Clock::now() >= next_tick) {
          next_tick = Clock::now() + options_.tick_interval;
          lock.unlock();
          tick_();  // enqueues; the loop picks it up
          lock.lock();
        }
      } else {
        cv_.wait(lock, [this] { return stopping_ || !queue_.empty(); });
      }
      continue;
    }
    Item item = std::move(queue_.front());
    queue_.pop_front();
    stats_.queued = queue_.size();
    lock.unlock();
    const bool ok = deliver(item);
    lock.lock();
    if (ok) {
      ++stats_.sent;
    } else {
      ++stats_.failed;
    }
  }
}

}  // namespace guardian::webhook
