// ServerSupervisor's notices from the lifecycle (healthy, a failed start, down, given up,
// flapping, stable again, settled) turned into console lines, log events, the monitor's
// conditions and the SERVER_UP / SERVER_DOWN / SERVER_FLAPPING / SERVER_GAVE_UP / SERVER_SLOW
// (slow start) alerts, and the texts they are written with (the alert context, the exit-125
// message). While a server flaps, its downs and recoveries are lines and log events only:
// one SERVER_FLAPPING stands for them, one SERVER_UP ends it once the server is stable.
#include <fmt/format.h>
#include <fmt/ranges.h>

#include "adapters/uvicorn/uvicorn_adapter.hpp"
#include "guardian/config/quantity.hpp"
#include "guardian/servers/server_supervisor.hpp"
#include "guardian/servers/server_text.hpp"

namespace guardian::servers {
namespace {

constexpr std::size_t kMessageLines = 10;  // output lines in messages and alerts

}  // namespace

void ServerSupervisor::healthy(const health::HealthyInfo& info) {
  last_start_failure_.reset();
  startup_timer_.cancel();
  if (spec_.probe)
    context_.console.info(fmt::format("server '{}' is healthy after {}{}", spec_.name,
                                      human_duration(info.startup_time),
                                      info.attempts > 1 ? fmt::format(" (attempt {})", info.attempts) : ""));
  else
    context_.console.info(fmt::format("server '{}' is running (no health check: only its exit is watched)",
                                      spec_.name));
  context_.log.info("servers", "server.healthy",
                    fmt::format("server '{}' healthy after {}", spec_.name, human_duration(info.startup_time)),
                    {{"server", spec_.name},
                     {"pid", pid_},
                     {"startup_ms", info.startup_time.count()},
                     {"attempt", info.attempts},
                     {"restart", info.restart}});
  if (info.slow) {
    auto message = fmt::format("server '{}' took {} to answer its first health check (slower than {})", spec_.name,
                               human_duration(info.startup_time), human_duration(spec_.lifecycle.slow_start));
    auto context = alert_context("slow_start");
    context["startup_ms"] = info.startup_time.count();
    context["threshold_ms"] = spec_.lifecycle.slow_start.count();
    context_.alerts.raise(alerts::AlertSpec{alerts::AlertType::server_slow, alerts::Severity::warning, spec_.name,
                                            fmt::format("server '{}' started slowly", spec_.name), message, "health",
                                            context});
    if (hooks_.pulse) hooks_.pulse(alerts::Severity::warning, message);
  }
  condition("down", std::nullopt);
  if (down_alert_active_ && !info.flapping) {
    down_alert_active_ = false;
    auto message = fmt::format("server '{}' is healthy again after {}", spec_.name, human_duration(info.startup_time));
    context_.alerts.raise(alerts::AlertSpec{alerts::AlertType::server_up, alerts::Severity::info, spec_.name,
                                            fmt::format("server '{}' is up", spec_.name), message, "health",
                                            alert_context("healthy")});
  }
}

void ServerSupervisor::start_failed(const health::StartFailureInfo& info) {
  last_start_failure_ = info;
  std::string what;
  switch (info.reason) {
    case health::StartFailure::timed_out: what = info.detail; break;
    case health::StartFailure::exited: what = fmt::format("it {} before answering its health check", info.detail); break;
    case health::StartFailure::launch_failed: what = "it could not be launched"; break;
  }
  std::string next =
      info.retry_in ? fmt::format("; retrying in {} with a {} startup timeout", human_duration(*info.retry_in),
                                  config::format_duration(info.next_startup_timeout.value_or(info.startup_timeout)))
                    : "";
  auto message = fmt::format("server '{}' did not start: {} (attempt {}){}", spec_.name, what, info.failed_attempts, next);
  context_.console.error(message);
  context_.log.warning("servers", "server.start_failed", message,
                       {{"server", spec_.name},
                        {"reason", to_string(info.reason)},
                        {"elapsed_ms", info.elapsed.count()},
                        {"startup_timeout_ms", info.startup_timeout.count()},
                        {"attempt", info.failed_attempts},
                        {"retry_in_ms", info.retry_in ? nlohmann::json(info.retry_in->count()) : nlohmann::json()},
                        {"last_output", output_.last_lines(kMessageLines)}});
}

void ServerSupervisor::down(const health::DownInfo& info) {
  last_down_ = info;
  stable_timer_.cancel();  // not stable any more (and nothing pending may outlive the run)
  std::string after = info.restart_in ? fmt::format("; restarting in {}", human_duration(*info.restart_in))
                                      : fmt::format("; not restarted (restart = {})", to_string(spec_.lifecycle.restart));
  auto message = fmt::format("server '{}' went down: {} after {} up{}{}", spec_.name, info.detail,
                             human_duration(info.uptime), test_phrase(), after);
  auto context = alert_context(to_string(info.reason));
  context["uptime_ms"] = info.uptime.count();
  context["restart_in_ms"] = info.restart_in ? nlohmann::json(info.restart_in->count()) : nlohmann::json();
  if (auto hint = adapters::uvicorn::down_hint(spec_.argv); !hint.empty()) context["hint"] = hint;
  context["recent_downs"] = info.recent_downs;
  context["flapping"] = info.flap != health::FlapDetector::Down::single;
  context_.console.error(message);
  context_.log.write(report::Level::error, "servers", "server.down", message, context);
  switch (info.flap) {
    case health::FlapDetector::Down::single:
      context_.alerts.raise(alerts::AlertSpec{alerts::AlertType::server_down, alerts::Severity::critical, spec_.name,
                                              fmt::format("server '{}' is down", spec_.name), message, "health",
                                              context});
      down_alert_active_ = true;
      break;
    case health::FlapDetector::Down::starts_flapping: {
      const auto& life = spec_.lifecycle;
      auto flapping = fmt::format(
          "server '{}' is flapping: it went down {} times within {} (last: {} after {} up); guardian keeps "
          "restarting it with backoff{} and sends no SERVER_DOWN or SERVER_UP for it until it has stayed up "
          "for {}",
          spec_.name, info.recent_downs, config::format_duration(life.flap_window), info.detail,
          human_duration(info.uptime),
          info.restart_in ? fmt::format(" (next in {})", human_duration(*info.restart_in)) : "",
          config::format_duration(life.stable_uptime));
      context["flap_downs"] = life.flap_downs;
      context["flap_window_ms"] = life.flap_window.count();
      context_.console.error(flapping);
      context_.log.write(report::Level::error, "servers", "server.flapping", flapping, context);
      context_.alerts.raise(alerts::AlertSpec{alerts::AlertType::server_flapping, alerts::Severity::critical,
                                              spec_.name, fmt::format("server '{}' is flapping", spec_.name),
                                              flapping, "health", context});
      break;
    }
    case health::FlapDetector::Down::while_flapping: break;  // the flapping alert stands for it
  }
  condition("probe", std::nullopt);
  condition("down", alerts::Severity::critical, message);
}

void ServerSupervisor::stable_again(const health::StableInfo& info) {
  auto message = fmt::format("server '{}' is stable again: up for {} after going down {} time(s) while flapping",
                             spec_.name, human_duration(info.uptime), info.downs);
  auto context = alert_context("stable");
  context["uptime_ms"] = info.uptime.count();
  context["downs_while_flapping"] = info.downs;
  context_.console.info(message);
  context_.log.info("servers", "server.stable", message, context);
  context_.alerts.raise(alerts::AlertSpec{alerts::AlertType::server_up, alerts::Severity::info, spec_.name,
                                          fmt::format("server '{}' is stable again", spec_.name), message, "health",
                                          context});
  publish_state(nullptr);
}

void ServerSupervisor::gave_up(const health::GiveUpInfo& info) {
  auto message = fmt::format("server '{}' given up: {}", spec_.name, info.detail);
  auto context = alert_context(to_string(info.reason));
  context["failed_starts"] = info.failed_starts;
  context_.log.write(report::Level::error, "servers", "server.fatal", message, context);
  context_.alerts.raise(alerts::AlertSpec{alerts::AlertType::server_gave_up, alerts::Severity::critical, spec_.name,
                                          fmt::format("server '{}' given up", spec_.name), failure_message(), "health",
                                          context});
  condition("probe", std::nullopt);
  condition("down", alerts::Severity::critical, message);
}

void ServerSupervisor::settled(health::ServerState state) {
  // Stopped on request, or down for good by its policy: nothing left for the monitor to watch.
  condition("probe", std::nullopt);
  condition("down", std::nullopt);
  context_.log.info("servers", "server.settled", fmt::format("server '{}' {}", spec_.name, to_string(state)),
                    {{"server", spec_.name}, {"state", to_string(state)}});
  publish_state(nullptr);
}

// ---- messages and report ----------------------------------------------------------------

void ServerSupervisor::condition(std::string_view what, std::optional<alerts::Severity> severity,
                                 const std::string& reason) {
  if (hooks_.condition) hooks_.condition(fmt::format("server.{}.{}", spec_.name, what), severity, reason);
}

std::string ServerSupervisor::test_phrase() const {
  if (!hooks_.running_test) return {};
  auto test = hooks_.running_test();
  if (test.is_string()) return fmt::format(" while test {} was running", test.get<std::string>());
  if (test.is_object() && test.contains("nodeid") && test["nodeid"].is_string())
    return fmt::format(" while test {} was running", test["nodeid"].get<std::string>());
  return {};
}

nlohmann::json ServerSupervisor::alert_context(std::string_view reason) const {
  nlohmann::json context = {
      {"server", spec_.name},
      {"reason", reason},
      {"state", to_string(lifecycle_.state())},
      {"command", spec_.command_text},
      {"health", spec_.probe ? nlohmann::json(health::describe(*spec_.probe)) : nlohmann::json()},
      {"pid", pid_ > 0 ? nlohmann::json(pid_) : nlohmann::json()},
      {"restarts", lifecycle_.restarts()},
      // Filled by the test-runner adapter (which test was running when it happened); null until then.
      {"running_test", hooks_.running_test ? hooks_.running_test() : nlohmann::json()},
      {"last_probe", last_probe_ ? probe_json(*last_probe_) : nlohmann::json()},
      {"exit", last_exit_ ? nlohmann::json(last_exit_->describe()) : nlohmann::json()},
      {"last_output", output_.last_lines(kMessageLines)},
  };
  return context;
}

std::string ServerSupervisor::output_tail(std::size_t lines, std::string_view indent) const {
  auto tail = output_.last_lines(lines);
  if (tail.empty()) return fmt::format("{}(it printed nothing)", indent);
  std::string out;
  for (const auto& line : tail) out += fmt::format("{}[{}] {}\n", indent, spec_.name, line);
  if (!out.empty()) out.pop_back();
  return out;
}

std::string ServerSupervisor::failure_message() const {
  auto give_up = lifecycle_.give_up();
  std::string headline;
  std::string last = last_start_failure_ ? last_start_failure_->reason == health::StartFailure::exited
                                               ? fmt::format("it {}", last_start_failure_->detail)
                                               : last_start_failure_->detail
                                         : std::string("unknown");
  if (!give_up) {
    headline = fmt::format("server '{}' is not running ({})", spec_.name, to_string(lifecycle_.state()));
  } else if (give_up->reason == health::GiveUpReason::breaker) {
    headline = fmt::format("server '{}' keeps failing to start ({}; last: {}); guardian gave up on it (circuit breaker)",
                           spec_.name, give_up->detail, last);
  } else if (give_up->reason == health::GiveUpReason::never_healthy) {
    headline = fmt::format("server '{}' never became healthy: {} attempts with startup timeouts of {} (last: {})",
                           spec_.name, give_up->failed_starts,
                           fmt::join([&] {
                             std::vector<std::string> list;
                             for (auto t : spec_.lifecycle.startup_timeouts) list.push_back(config::format_duration(t));
                             return list;
                           }(), ", "),
                           last);
  } else {
    headline = fmt::format("server '{}' failed to start ({}) and its restart policy is 'never'", spec_.name, last);
  }
  auto health_text = spec_.probe ? health::describe(*spec_.probe) : std::string("(no health check)");
  return fmt::format("{}.\nIts last output:\n{}\nRun its command by hand to see why ({}), check that {} answers, "
                     "or allow more time with servers.{}.startup_timeouts.",
                     headline, output_tail(kMessageLines, "  "), spec_.command_text, health_text, spec_.name);
}

}  // namespace guardian::servers
