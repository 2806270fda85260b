// Monitor's protector actions carried out: renicing or stopping a process that monopolises
// the tree, the breaker opening, and freeing disposable paths when a disk fills up; each
// logged, printed, kept for the report and, where it matters, raised as an alert.
#include <fmt/format.h>
#include <fmt/ranges.h>

#include "guardian/config/quantity.hpp"
#include "guardian/monitor/disk_cleaner.hpp"
#include "guardian/monitor/monitor.hpp"
#include "guardian/report/clock.hpp"
#include "guardian/context/run_context.hpp"

namespace guardian::monitor {
namespace {

constexpr std::size_t kKeptActions = 100;

// The protector's RESOURCE_CRITICAL alerts (a process stopped, the breaker open).
alerts::AlertSpec protector_alert(std::string subject, std::string title, std::string message, nlohmann::json context) {
  return alerts::AlertSpec{alerts::AlertType::resource_critical, std::nullopt, std::move(subject), std::move(title),
                           std::move(message), "monitor", std::move(context)};
}

}  // namespace

void Monitor::record_action(nlohmann::json action) {
  action["time"] = report::iso8601(std::chrono::system_clock::now());
  actions_log_.push_back(std::move(action));
  if (actions_log_.size() > kKeptActions) actions_log_.erase(actions_log_.begin());
}

void Monitor::act(const std::vector<ProtectorAction>& actions, SteadyTime now) {
  for (const auto& action : actions) {
    nlohmann::json context = {{"pid", action.pid},         {"name", action.name},
                              {"command", action.command_line}, {"reason", action.reason},
                              {"action", to_string(action.kind)}};
    std::string who = fmt::format("pid {} ({})", action.pid, action.name.empty() ? "?" : action.name);
    switch (action.kind) {
      case ActionKind::spare:
        run_.log.info("monitor", "protector.spared", fmt::format("not touching {}: {}", who, action.reason), context);
        record_action(context);
        break;
      case ActionKind::renice: {
        std::string error = actions_.renice_idle(action.pid, action.start_ticks);
        context["error"] = error.empty() ? nlohmann::json(nullptr) : nlohmann::json(error);
        record_action(context);
        if (!error.empty()) {
          run_.log.warning("monitor", "protector.failed", error, context);
          break;
        }
        std::string line = fmt::format("protector: reniced {} to nice 19, idle IO: {}", who, action.reason);
        run_.log.warning("monitor", "protector.reniced", line, context);
        run_.console.info(line);
        break;
      }
      case ActionKind::terminate: {
        std::string error = actions_.terminate(
            action.pid, action.start_ticks, settings_.protector.kill_after, [this, who](pid_t pid, bool killed) {
              // Still there after kill_after: it ignored SIGTERM, or is slow to exit (a reniced
              // process on a busy machine), which this cannot tell apart.
              std::string line = killed ? fmt::format("protector: {} still running {} after SIGTERM: SIGKILL sent", who,
                                                      config::format_duration(settings_.protector.kill_after))
                                        : fmt::format("protector: {} ended after SIGTERM", who);
              run_.log.warning("monitor", killed ? "protector.killed" : "protector.ended", line,
                               {{"pid", pid}, {"killed", killed}});
              // The process is gone: the protector's alert is no longer an open problem.
              run_.alerts.resolve(alerts::make_dedup_key(alerts::AlertType::resource_critical, "protector"));
            });
        context["error"] = error.empty() ? nlohmann::json(nullptr) : nlohmann::json(error);
        record_action(context);
        if (!error.empty()) {
          run_.log.warning("monitor", "protector.failed", error, context);
          break;
        }
        std::string line = fmt::format("protector: stopping {} (SIGTERM, SIGKILL after {}): {}", who,
                                       config::format_duration(settings_.protector.kill_after), action.reason);
        run_.log.warning("monitor", "protector.terminated", line, context);
        run_.console.info(line);
        run_.alerts.raise(protector_alert("protector", "Stopped a process monopolising the tree", line, context));
        break;
      }
      case ActionKind::breaker_open: {
        record_action(context);
        std::string line = "protector: circuit breaker open: " + action.reason;
        run_.log.write(report::Level::error, "monitor", "protector.breaker_open", line, context);
        run_.console.error(line);
        run_.alerts.raise(protector_alert("protector-breaker", "Resource protector stopped acting", line, context));
        announce(progressive_.pulse(now, Severity::critical, "protector circuit breaker open"));
        break;
      }
    }
  }
}

void Monitor::clean_disk(const std::string& path, SteadyTime now) {
  if (settings_.disposable.empty()) {
    run_.log.info("monitor", "disk.nothing_disposable",
                  fmt::format("disk {} is filling up and no disposable paths are configured (protector.disposable)", path),
                  {{"disk", path}});
    return;
  }
  std::optional<ProtectorAction> breaker;
  if (!protector_.allow_disk_cleanup(now, breaker)) {
    if (breaker) act({*breaker}, now);
    return;
  }
  CleanupResult result = clean_disposable(settings_.disposable, device_of(path));
  disk_bytes_freed_ += result.bytes_freed;
  nlohmann::json context = {{"disk", path},
                            {"bytes_freed", result.bytes_freed},
                            {"entries_removed", result.entries_removed},
                            {"cleaned", result.cleaned},
                            {"errors", result.errors},
                            {"action", "disk_cleanup"}};
  record_action(context);
  std::string line = fmt::format("protector: disk {} filling up: freed {} ({} entries) from {}", path,
                                 config::format_bytes(result.bytes_freed), result.entries_removed,
                                 result.cleaned.empty() ? std::string("nothing (already empty)")
                                                        : fmt::format("{}", fmt::join(result.cleaned, ", ")));
  run_.log.warning("monitor", "disk.cleaned", line, context);
  run_.console.info(line);
  for (const auto& error : result.errors) run_.log.warning("monitor", "disk.clean_failed", error, {{"disk", path}});
}

}  // namespace guardian::monitor
