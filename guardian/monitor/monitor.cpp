#include "guardian/monitor/monitor.hpp"

#include <time.h>

#include <boost/asio/dispatch.hpp>
#include <fmt/format.h>

#include "guardian/config/quantity.hpp"
#include "guardian/report/clock.hpp"
#include "guardian/context/run_context.hpp"

namespace guardian::monitor {
namespace {

using Clock = std::chrono::steady_clock;

std::uint64_t thread_cpu_nsec() {
  timespec ts{};
  ::clock_gettime(CLOCK_THREAD_CPUTIME_ID, &ts);
  return static_cast<std::uint64_t>(ts.tv_sec) * 1'000'000'000ULL + static_cast<std::uint64_t>(ts.tv_nsec);
}

constexpr std::size_t kKeptTransitions = 100;

std::string metric_title(const std::string& metric) {
  if (metric.starts_with("disk:")) return "disk " + metric.substr(5);
  return metric;
}

}  // namespace

Monitor::HeavyPhase& Monitor::HeavyPhase::operator=(HeavyPhase&& other) noexcept {
  if (this != &other) {
    end();
    monitor_ = std::exchange(other.monitor_, nullptr);
    name_ = std::move(other.name_);
  }
  return *this;
}

void Monitor::HeavyPhase::end() {
  if (!monitor_) return;
  Monitor* monitor = std::exchange(monitor_, nullptr);
  monitor->on_run_thread([monitor, name = name_] {
    monitor->announce(monitor->progressive_.end_heavy_phase(Clock::now(), name));
  });
}

Monitor::Monitor(context::RunContext& run, MonitorSettings settings)
    : run_(run),
      settings_(std::move(settings)),
      progressive_(settings_.progressive, Clock::now()),
      thresholds_(settings_.threshold_policy),
      protector_(settings_.protector),
      ring_(settings_.history),
      actions_(run.io.get_executor()),
      timer_(run.io),
      started_at_(Clock::now()),
      level_copy_(progressive_.level()),
      reason_copy_(progressive_.reason()) {
  thresholds_.define("cpu", settings_.cpu);
  thresholds_.define("memory", settings_.memory);
  thresholds_.define("disk", settings_.disk);
}

Monitor::~Monitor() { stop(); }

template <typename F>
void Monitor::on_run_thread(F&& f) {
  boost::asio::dispatch(run_.io, std::forward<F>(f));
}

void Monitor::watch(Sampler::TreeSource tree, process::TreeMembership members, ProcessWalker::IsRoot is_root) {
  SamplerOptions sampler_options;
  sampler_options.disks = settings_.disks;
  sampler_.emplace(std::move(tree), std::move(sampler_options));
  walker_.emplace(std::move(members), "/proc", std::move(is_root));

  begin_reports();
  run_.log.info("monitor", "monitor.started",
                fmt::format("monitor at {} ({}); checks every {}", to_string(progressive_.level()),
                            progressive_.reason(),
                            config::format_duration(settings_.intervals[progressive_.level()].check_interval)),
                {{"level", to_string(progressive_.level())}, {"settings", settings_.to_json()}});
  check();
}

void Monitor::stop() {
  if (stopped_) return;
  stopped_ = true;
  ++generation_;
  timer_.cancel();
  actions_.cancel();
}

Level Monitor::level() const {
  std::lock_guard lock(state_mutex_);
  return level_copy_;
}

std::string Monitor::reason() const {
  std::lock_guard lock(state_mutex_);
  return reason_copy_;
}

std::size_t Monitor::on_level_change(LevelListener listener) {
  std::size_t id = next_listener_id_++;
  listeners_[id] = std::move(listener);
  return id;
}

void Monitor::remove_level_listener(std::size_t id) { listeners_.erase(id); }

void Monitor::raise_condition(const std::string& key, Severity severity, const std::string& reason) {
  on_run_thread([this, key, severity, reason] {
    run_.log.write(severity == Severity::critical ? report::Level::warning : report::Level::info, "monitor",
                   "condition.raised", reason, {{"key", key}, {"severity", to_string(severity)}});
    announce(progressive_.raise(Clock::now(), key, severity, reason));
  });
}

void Monitor::clear_condition(const std::string& key) {
  on_run_thread([this, key] {
    if (!progressive_.conditions().count(key)) return;
    run_.log.info("monitor", "condition.cleared", fmt::format("{} cleared", key), {{"key", key}});
    announce(progressive_.clear(Clock::now(), key));
  });
}

void Monitor::pulse(Severity severity, const std::string& reason) {
  on_run_thread([this, severity, reason] {
    run_.log.write(severity == Severity::critical ? report::Level::warning : report::Level::info, "monitor",
                   "condition.event", reason, {{"severity", to_string(severity)}});
    announce(progressive_.pulse(Clock::now(), severity, reason));
  });
}

Monitor::HeavyPhase Monitor::heavy_phase(const std::string& name) {
  on_run_thread([this, name] { announce(progressive_.begin_heavy_phase(Clock::now(), name)); });
  return HeavyPhase(this, name);
}

void Monitor::arm(SteadyTime at) {
  armed_for_ = at;
  std::uint64_t generation = ++generation_;
  timer_.expires_at(at);
  timer_.async_wait([this, generation](const boost::system::error_code& error) {
    if (error || generation != generation_ || stopped_) return;
    check();
  });
}

void Monitor::schedule(SteadyTime now) {
  if (stopped_) return;
  auto interval = settings_.intervals[progressive_.level()].check_interval;
  // A reading over a threshold is confirmed at CRITICAL's cadence, not after a whole
  // interval of the level (CPU and memory come from the limiter's samples when it streams).
  const bool confirm = streamed_ ? thresholds_.wants_confirmation({"disk:"})
                                 : thresholds_.wants_confirmation({"cpu", "memory", "disk:"});
  if (confirm) interval = std::min(interval, settings_.intervals[Level::critical].check_interval);
  arm(now + interval);
}

void Monitor::follow_samples(limits::Limiter& limiter) {
  // The limiter may outlive the monitor (or die first): the listener holds only a token.
  limiter.on_sample([this, alive = std::weak_ptr<bool>(alive_)](const limits::TreeUsage& usage, SteadyTime at) {
    return !alive.expired() && observe_tree(usage, at);
  });
}

bool Monitor::observe_tree(const limits::TreeUsage& usage, SteadyTime now) {
  if (stopped_ || !sampler_) return false;
  streamed_ = true;
  feed_thresholds(sampler_->read(usage, now), now);
  return thresholds_.wants_confirmation({"cpu", "memory"});
}

void Monitor::feed_thresholds(const TreeReading& reading, SteadyTime now) {
  if (reading.cpu_percent_of_ceiling)
    if (auto change = thresholds_.update("cpu", *reading.cpu_percent_of_ceiling)) apply(*change, now);
  if (reading.memory_percent_of_ceiling)
    if (auto change = thresholds_.update("memory", *reading.memory_percent_of_ceiling)) apply(*change, now);
}

void Monitor::check() {
  if (stopped_ || !sampler_) return;
  const std::uint64_t cpu_start_nsec = thread_cpu_nsec();
  const SteadyTime now = Clock::now();
  ++checks_;
  streamed_ = false;
  Snapshot snapshot = sampler_->sample(now, std::chrono::system_clock::now(), progressive_.level());

  const Level level = progressive_.level();
  const bool report_due = now - last_report_at_ >= settings_.intervals[level].report_interval;
  const bool protector_walk = protector_.needs_walk(snapshot.cpu_percent_of_ceiling, snapshot.memory_percent_of_ceiling);
  // Open files and IO cost two more reads per process: only for the snapshots that are
  // reported (the tree's totals are read every check).
  const bool want_files = !snapshot.open_fds && report_due;
  std::vector<ProtectorAction> actions;
  if (walker_ && (protector_walk || want_files)) {
    ++walks_;
    TreeWalk walk = walker_->walk(now, snapshot.cpu_ceiling_cores, snapshot.memory_ceiling_bytes, want_files);
    if (walk.files_and_io) {
      snapshot.open_fds = walk.open_fds;
      if (!snapshot.io_read_bytes) snapshot.io_read_bytes = walk.io_read_bytes;
      if (!snapshot.io_write_bytes) snapshot.io_write_bytes = walk.io_write_bytes;
    }
    const HostReader& host = walker_->host();
    if (protector_.active())
      actions = protector_.evaluate(now, walk.processes, [&host](pid_t pid) {
        return ProcessIdentity{host.process_name(pid), host.command_line(pid)};
      });
  } else {
    protector_.calm();
  }

  peak_memory_bytes_ = std::max(peak_memory_bytes_, snapshot.memory_peak_bytes.value_or(snapshot.memory_bytes));
  peak_processes_ = std::max(peak_processes_, snapshot.processes);
  peak_threads_ = std::max(peak_threads_, snapshot.threads);
  if (snapshot.cpu_percent_of_core && (!peak_cpu_percent_ || *snapshot.cpu_percent_of_core > *peak_cpu_percent_))
    peak_cpu_percent_ = snapshot.cpu_percent_of_core;

  // With a streaming limiter this check's sample already went through observe_tree().
  if (!streamed_) {
    TreeReading reading{snapshot.cpu_percent_of_ceiling, std::nullopt};
    if (snapshot.memory_ceiling_bytes > 0) reading.memory_percent_of_ceiling = snapshot.memory_percent_of_ceiling;
    feed_thresholds(reading, now);
  }
  for (const auto& disk : snapshot.disks)
    if (auto change = thresholds_.update("disk:" + disk.path, disk.used_percent)) apply(*change, now);
  announce(progressive_.observe(now, snapshot.cpu_percent_of_core));

  act(actions, now);
  ring_.push(snapshot);
  if (report_due) report(snapshot, now);
  schedule(now);
  check_cpu_nsec_ += thread_cpu_nsec() - cpu_start_nsec;
}

void Monitor::announce(const std::optional<LevelChange>& change) {
  if (!change) return;
  {
    std::lock_guard lock(state_mutex_);
    level_copy_ = change->to;
    reason_copy_ = change->reason;
  }
  ++transitions_total_;
  const auto wall = report::iso8601(std::chrono::system_clock::now());
  transitions_.push_back({{"time", wall}, {"from", to_string(change->from)}, {"to", to_string(change->to)},
                          {"reason", change->reason}});
  if (transitions_.size() > kKeptTransitions) transitions_.erase(transitions_.begin());

  std::string line = fmt::format("monitor {} → {}: {}", to_string(change->from), to_string(change->to), change->reason);
  run_.log.info("monitor", "level.changed", line,
                {{"from", to_string(change->from)}, {"to", to_string(change->to)}, {"reason", change->reason}});
  run_.console.info(line);
  alerts::AlertSpec alert;
  alert.type = alerts::AlertType::level_changed;
  alert.subject = std::string(to_string(change->to));
  alert.title = fmt::format("Monitor {}", to_string(change->to));
  alert.message = line;
  alert.source = "monitor";
  alert.context = {{"from", to_string(change->from)}, {"to", to_string(change->to)}, {"reason", change->reason}};
  run_.alerts.raise(std::move(alert));

  // A sharper level must not wait for a long timer armed at the old one.
  if (sampler_ && !stopped_) {
    SteadyTime now = Clock::now();
    SteadyTime sooner = now + settings_.intervals[change->to].check_interval;
    if (sooner < armed_for_) arm(sooner);
  }
  auto listeners = listeners_;  // a listener may remove itself
  for (auto& [id, listener] : listeners) listener(*change);
}

void Monitor::apply(const ConditionChange& change, SteadyTime now) {
  const std::string key = "threshold:" + change.metric;
  const std::string text = describe(change);
  const auto resolve_both = [&] {
    run_.alerts.resolve(alerts::make_dedup_key(alerts::AlertType::resource_warning, change.metric));
    run_.alerts.resolve(alerts::make_dedup_key(alerts::AlertType::resource_critical, change.metric));
  };
  nlohmann::json context = {{"metric", change.metric},
                            {"from", to_string(change.from)},
                            {"to", to_string(change.to)},
                            {"value_percent", change.value_percent},
                            {"threshold_percent", change.threshold_percent},
                            {"threshold", to_string(change.threshold)}};
  if (change.to == ConditionState::ok) {
    run_.log.info("monitor", "condition.cleared", text, context);
    resolve_both();
    announce(progressive_.clear(now, key));
    return;
  }
  const Severity severity = *severity_of(change.to);
  run_.log.write(severity == Severity::critical ? report::Level::warning : report::Level::info, "monitor",
                 "condition.raised", text, context);
  if (change.from == ConditionState::critical) resolve_both();
  alerts::AlertSpec alert;
  alert.type = severity == Severity::critical ? alerts::AlertType::resource_critical : alerts::AlertType::resource_warning;
  alert.subject = change.metric;
  alert.title = fmt::format("{} {}", metric_title(change.metric), to_string(change.to));
  alert.message = text;
  alert.source = "monitor";
  // Which test the tree was running when it crossed the threshold (null outside a test run).
  if (auto test = run_.running_test ? run_.running_test() : nlohmann::json(); test.is_object()) {
    alert.message += fmt::format(" while running {}", test.value("nodeid", ""));
    context["running_test"] = std::move(test);
  }
  alert.context = context;
  run_.alerts.raise(std::move(alert));
  announce(progressive_.raise(now, key, severity, text));
  if (change.from == ConditionState::ok && change.metric.starts_with("disk:")) clean_disk(change.metric.substr(5), now);
}

}  // namespace guardian::monitor
