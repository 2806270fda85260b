// Sender: the webhook plugin's delivery thread — a bounded queue of request bodies (the
// oldest dropped when full), each POSTed with a timeout and retried with exponential
// backoff, in order. Nothing is lost silently: drops, retries and give-ups are counted
// and logged. An optional tick runs on the same thread at a fixed interval (re-sending
// active alerts to Alertmanager).
#pragma once

#include <chrono>
#include <condition_variable>
#include <cstdint>
#include <deque>
#include <functional>
#include <mutex>
#include <string>
#include <thread>
#include <utility>
#include <vector>

#include "http_post.hpp"

namespace guardian::webhook {

struct SenderOptions {
  Url url;
  std::string content_type = "application/json";
  std::vector<std::pair<std::string, std::string>> headers;
  TlsOptions tls;
  std::chrono::milliseconds timeout{5000};         // per request
  std::size_t max_queue = 256;
  int retries = 5;                                 // after the first attempt
  std::chrono::milliseconds backoff_initial{500};  // doubles per retry…
  std::chrono::milliseconds backoff_max{30000};    // …up to this
  std::chrono::milliseconds tick_interval{0};      // 0 = no tick
};

struct SenderStats {
  std::uint64_t sent = 0;
  std::uint64_t failed = 0;   // gave up after every retry
  std::uint64_t dropped = 0;  // pushed out of a full queue
  std::uint64_t retries = 0;
  std::uint64_t queued = 0;
};

class Sender {
 public:
  using LogFn = std::function<void(int level, const std::string& message)>;  // GUARDIAN_LOG_* levels

  Sender(SenderOptions options, LogFn log, std::function<void()> tick = nullptr);
  ~Sender();  // stop(0) if not stopped
  Sender(const Sender&) = delete;
  Sender& operator=(const Sender&) = delete;

  // `what` names the delivery in log lines ("SERVER_DOWN api (alert 3)").
  void enqueue(std::string body, std::string what);
  // Stops taking work; delivers what is queued (one attempt each, no more backoff) until
  // the deadline, counts the rest as failed, joins the thread. Idempotent.
  void stop(std::chrono::milliseconds drain);
  SenderStats stats() const;

 private:
  struct Item {
    std::string body;
    std::string what;
  };
  void loop();
  bool deliver(Item& item);  // false: gave up

  SenderOptions options_;
  LogFn log_;
  std::function<void()> tick_;
  mutable std::mutex mutex_;
  std::condition_variable cv_;
  std::deque<Item> queue_;
  bool stopping_ = false;
  std::chrono::steady_clock::time_point drain_deadline_{};
  SenderStats stats_;
  std::thread thread_;
};

}  // namespace guardian::webhook
