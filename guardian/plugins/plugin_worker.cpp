#include "guardian/plugins/plugin_worker.hpp"

#include <cstdlib>
#include <cstring>
#include <exception>

#include <fmt/format.h>

#include "guardian/plugins/config_schema.hpp"

namespace guardian::plugins {
namespace {

using SteadyClock = std::chrono::steady_clock;

std::int64_t now_ns() {
  return std::chrono::duration_cast<std::chrono::nanoseconds>(SteadyClock::now().time_since_epoch()).count();
}

}  // namespace

void HostServices::set_query_handler(QueryHandler handler) {
  std::lock_guard lock(mutex_);
  query_ = std::move(handler);
}

void HostServices::set_log_sink(LogSink sink) {
  std::lock_guard lock(mutex_);
  log_ = std::move(sink);
}

void HostServices::set_call_observer(CallObserver observer) { calls_ = std::move(observer); }

void HostServices::call_starting(const std::string& plugin, std::uint64_t seq) const {
  if (calls_) calls_(plugin, seq, true);
}

void HostServices::call_ended(const std::string& plugin, std::uint64_t seq) const {
  if (calls_) calls_(plugin, seq, false);
}

void HostServices::log(const std::string& plugin, int level, const std::string& message) const {
  // Held while logging, so detach() waits for a sink call in progress.
  std::lock_guard lock(mutex_);
  if (log_) log_(plugin, level, message);
}

void HostServices::detach() {
  std::lock_guard lock(mutex_);
  log_ = nullptr;
  query_ = nullptr;
}

nlohmann::json HostServices::query(const nlohmann::json& what) const {
  QueryHandler handler;
  {
    std::lock_guard lock(mutex_);
    handler = query_;
  }
  if (!handler) return {{"error", "guardian answers no queries in this context (no query handler installed)"}};
  return handler(what);
}

nlohmann::json WorkerStats::to_json() const {
  nlohmann::json j{{"queued", queued},   {"delivered", delivered},
                   {"errors", errors},   {"exceptions", exceptions},
                   {"dropped", dropped}, {"calls", calls},
                   {"mean_call_us", calls ? total_call_ns / calls / 1000 : 0},
                   {"max_call_us", max_call_ns / 1000}};
  j["busy_ms"] = busy_for ? nlohmann::json(busy_for->count() / 1'000'000) : nlohmann::json();
  return j;
}

struct PluginWorker::State {
  std::string name;
  const guardian_plugin* api = nullptr;
  std::size_t capacity = 1;
  std::shared_ptr<HostServices> services;
  guardian_host host{};

  std::mutex mutex;
  std::condition_variable wake;          // worker: events or stop
  std::condition_variable created_cv;    // starter: create() finished
  struct Queued {
    std::shared_ptr<const std::string> text;
    std::uint64_t seq = 0;
  };
  std::deque<Queued> queue;
  bool stopping = false;
  bool abandoned = false;  // start() gave up waiting for create()
  bool create_done = false;
  std::string create_error;
  bool finished = false;  // thread has destroyed the instance and is about to exit
  std::condition_variable finished_cv;
  WorkerStats stats;

  std::atomic<std::int64_t> call_started_ns{0};  // 0 = idle
  std::atomic<std::int64_t> reported_call_ns{0};  // call_started_ns already reported as stuck

  void log(int level, const std::string& message) {
    if (services) services->log(name, level, message);
  }

  // Releases a string the plugin allocated, and returns a copy.
  std::string take_string(char* text) {
    if (text == nullptr) return {};
    std::string copy(text);
    try {
      api->free_str(text);
    } catch (...) {
    }
    return copy;
  }
};

namespace {

void host_log(void* host, int level, const char* msg) {
  auto* state = static_cast<PluginWorker::State*>(host);
  try {
    state->log(level, msg == nullptr ? "" : msg);
  } catch (...) {
  }
}

char* host_query(void* host, const char* what_json) {
  auto* state = static_cast<PluginWorker::State*>(host);
  std::string answer;
  try {
    auto what = nlohmann::json::parse(what_json == nullptr ? "" : what_json, nullptr, false);
    if (what.is_discarded()) {
      answer = R"({"error":"query is not valid JSON; send e.g. {\"what\":\"status\"}"})";
    } else {
      answer = safe_dump(state->services->query(what));
    }
  } catch (const std::exception& e) {
    answer = safe_dump(nlohmann::json{{"error", std::string("query failed: ") + e.what()}});
  } catch (...) {
    answer = R"({"error":"query failed"})";
  }
  return ::strdup(answer.c_str());
}

void host_free(char* text) { std::free(text); }

void run_worker(const std::shared_ptr<PluginWorker::State>& state, const std::string& config_json) {
  void* self = nullptr;
  std::string error;
  try {
    char* error_text = nullptr;
    state->services->call_starting(state->name, 0);
    self = state->api->create(&state->host, config_json.c_str(), &error_text);
    error = state->take_string(error_text);
    if (self == nullptr && error.empty()) error = "create() returned no instance and no reason";
  } catch (const std::exception& e) {
    self = nullptr;
    error = std::string("create() threw through the C ABI (a plugin bug): ") + e.what();
  } catch (...) {
    self = nullptr;
    error = "create() threw through the C ABI (a plugin bug)";
  }
  state->services->call_ended(state->name, 0);  // also after a throw
  bool abandoned = false;
  {
    std::lock_guard lock(state->mutex);
    state->create_done = true;
    state->create_error = self == nullptr ? error : std::string();
    abandoned = state->abandoned;
  }
  state->created_cv.notify_all();

  if (self != nullptr && !abandoned) {
    for (;;) {
      PluginWorker::State::Queued event;
      {
        std::unique_lock lock(state->mutex);
        state->wake.wait(lock, [&] { return state->stopping || !state->queue.empty(); });
        if (state->queue.empty()) break;  // stopping and drained
        event = std::move(state->queue.front());
        state->queue.pop_front();
      }
      const std::int64_t start = now_ns();
      state->call_started_ns.store(start);
      int rc = GUARDIAN_PLUGIN_ERROR;
      std::string call_error;
      bool threw = false;
      try {
        char* error_text = nullptr;
        state->services->call_starting(state->name, event.seq);
        rc = state->api->on_event(self, event.text->c_str(), &error_text);
        call_error = state->take_string(error_text);
      } catch (const std::exception& e) {
        threw = true;
        call_error = e.what();
      } catch (...) {
        threw = true;
      }
      const std::int64_t took = now_ns() - start;
      state->services->call_ended(state->name, event.seq);  // also after a throw
      state->call_started_ns.store(0);
      if (state->reported_call_ns.exchange(0) == start) {
        state->log(GUARDIAN_LOG_WARNING, fmt::format("on_event returned after {:.1f} s", took / 1e9));
      }
      std::uint64_t count = 0;
      {
        std::lock_guard lock(state->mutex);
        auto& stats = state->stats;
        ++stats.calls;
        stats.total_call_ns += static_cast<std::uint64_t>(took);
        if (static_cast<std::uint64_t>(took) > stats.max_call_ns) stats.max_call_ns = static_cast<std::uint64_t>(took);
        if (threw) {
          count = ++stats.exceptions;
        } else if (rc != GUARDIAN_PLUGIN_OK) {
          count = ++stats.errors;
        } else {
          ++stats.delivered;
        }
      }
      // Log the 1st, 10th, 100th, ... failure: visible, never a flood.
      const bool log_it = count != 0 && (count == 1 || count == 10 || count == 100 || count % 1000 == 0);
      if (threw && log_it) {
        state->log(GUARDIAN_LOG_ERROR, fmt::format("on_event threw through the C ABI (a plugin bug{}{}) — {} so far; "
                                                   "guardian carries on",
                                                   call_error.empty() ? "" : ": ", call_error, count));
      } else if (!threw && rc != GUARDIAN_PLUGIN_OK && log_it) {
        state->log(GUARDIAN_LOG_WARNING,
                   fmt::format("on_event failed (code {}){}{} — {} so far", rc, call_error.empty() ? "" : ": ",
                               call_error, count));
      }
    }
  }
  if (self != nullptr) {
    try {
      state->services->call_starting(state->name, 0);
      state->api->destroy(self);
    } catch (...) {
      state->log(GUARDIAN_LOG_ERROR, "destroy() threw through the C ABI (a plugin bug)");
    }
    state->services->call_ended(state->name, 0);
  }
  {
    std::lock_guard lock(state->mutex);
    state->finished = true;
  }
  state->finished_cv.notify_all();
}

}  // namespace

PluginWorker::PluginWorker(std::string name, const guardian_plugin* api, std::size_t queue_capacity,
                           std::shared_ptr<HostServices> services)
    : state_(std::make_shared<State>()) {
  state_->name = std::move(name);
  state_->api = api;
  state_->capacity = queue_capacity == 0 ? 1 : queue_capacity;
  state_->services = std::move(services);
  state_->host.struct_size = sizeof(guardian_host);
  state_->host.abi_major = GUARDIAN_PLUGIN_ABI_MAJOR;
  state_->host.host = state_.get();
  state_->host.log = &host_log;
  state_->host.query = &host_query;
  state_->host.free_str = &host_free;
}

PluginWorker::~PluginWorker() {
  if (thread_.joinable()) stop(SteadyClock::now() + std::chrono::seconds(2));
}

const std::string& PluginWorker::name() const { return state_->name; }

std::string PluginWorker::start(const std::string& config_json, std::chrono::milliseconds timeout) {
  thread_ = std::thread([state = state_, config_json] { run_worker(state, config_json); });
  std::unique_lock lock(state_->mutex);
  if (!state_->created_cv.wait_for(lock, timeout, [&] { return state_->create_done; })) {
    state_->abandoned = true;
    state_->stopping = true;
    lock.unlock();
    thread_.detach();
    return fmt::format("create() did not return within {} ms; the plugin is left disabled", timeout.count());
  }
  if (!state_->create_error.empty()) {
    std::string error = state_->create_error;
    lock.unlock();
    thread_.join();
    return error;
  }
  return {};
}

bool PluginWorker::enqueue(std::shared_ptr<const std::string> event, std::uint64_t seq) {
  bool dropped = false;
  bool was_empty = false;
  std::uint64_t total_dropped = 0;
  {
    std::lock_guard lock(state_->mutex);
    if (state_->stopping) return true;
    if (state_->queue.size() >= state_->capacity) {
      state_->queue.pop_front();
      dropped = true;
      total_dropped = ++state_->stats.dropped;
    }
    was_empty = state_->queue.empty();
    state_->queue.push_back({std::move(event), seq});
  }
  // The worker only sleeps on an empty queue (checked under the mutex), so only the
  // empty -> non-empty transition needs a wake-up: saves a futex call per event in bursts.
  if (was_empty) state_->wake.notify_one();
  if (dropped && total_dropped == 1) {
    state_->log(GUARDIAN_LOG_WARNING,
                fmt::format("is not keeping up: its queue of {} events is full, dropping the oldest (counted in "
                            "the plugin stats)",
                            state_->capacity));
  }
  return !dropped;
}

void PluginWorker::request_stop() {
  {
    std::lock_guard lock(state_->mutex);
    state_->stopping = true;
  }
  state_->wake.notify_all();
}

bool PluginWorker::stop(SteadyClock::time_point deadline) {
  request_stop();
  if (!thread_.joinable()) return true;
  bool finished = false;
  {
    std::unique_lock lock(state_->mutex);
    finished = state_->finished_cv.wait_until(lock, deadline, [&] { return state_->finished; });
  }
  if (finished) {
    thread_.join();
    return true;
  }
  thread_.detach();
  return false;
}

WorkerStats PluginWorker::stats() const {
  WorkerStats stats;
  {
    std::lock_guard lock(state_->mutex);
    stats = state_->stats;
    stats.queued = state_->queue.size();
  }
  if (const auto started = state_->call_started_ns.load(); started != 0) {
    stats.busy_for = std::chrono::nanoseconds(now_ns() - started);
  }
  return stats;
}

std::optional<std::chrono::nanoseconds> PluginWorker::newly_stuck(std::chrono::nanoseconds limit) {
  const auto started = state_->call_started_ns.load();
  if (started == 0) return std::nullopt;
  const auto busy = std::chrono::nanoseconds(now_ns() - started);
  if (busy < limit) return std::nullopt;
  std::int64_t expected = 0;
  if (!state_->reported_call_ns.compare_exchange_strong(expected, started)) return std::nullopt;
  return busy;
}

}  // namespace guardian::plugins
