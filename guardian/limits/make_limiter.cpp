#include "guardian/limits/make_limiter.hpp"

#include <algorithm>
#include <fmt/format.h>
#include <fmt/ranges.h>

#include "guardian/limits/backend_choice.hpp"
#include "guardian/limits/capacity.hpp"
#include "guardian/limits/cgroup_probe.hpp"
#include "guardian/limits/cgroup_run_tree.hpp"
#include "guardian/limits/cgroup_v2_limiter.hpp"
#include "guardian/limits/enclosing_cap.hpp"
#include "guardian/limits/process_tree_limiter.hpp"
#include "guardian/limits/systemd_scope.hpp"
#include "guardian/limits/watchdog_limiter.hpp"

#include <unistd.h>

namespace guardian::limits {
namespace {

// The scope sits beside the unit guardian was started in: that unit's limits no longer hold
// the run by themselves, so guardian's ceilings are computed against them.
void keep_enclosing_limits(const CgroupProbe& caller, CgroupProbe& now) {
  if (caller.enclosing_memory_bytes &&
      (!now.enclosing_memory_bytes || *caller.enclosing_memory_bytes < *now.enclosing_memory_bytes)) {
    now.enclosing_memory_bytes = caller.enclosing_memory_bytes;
    now.enclosing_memory_from = caller.enclosing_memory_from;
  }
  if (caller.enclosing_cpu_cores && (!now.enclosing_cpu_cores || *caller.enclosing_cpu_cores < *now.enclosing_cpu_cores)) {
    now.enclosing_cpu_cores = caller.enclosing_cpu_cores;
    now.enclosing_cpu_from = caller.enclosing_cpu_from;
  }
}

std::string fixes_text(const BackendChoice& choice) {
  if (choice.fixes.empty()) return {};
  return fmt::format(" To get kernel-enforced ceilings: {}.", fmt::join(choice.fixes, "; or "));
}

}  // namespace

std::unique_ptr<Limiter> make_limiter(LimiterRequest request) {
  const config::Config& config = request.config;
  std::string requested = config.text("limits.backend");
  if (requested.empty()) requested = "auto";
  const bool disabled = config.boolean("limits.disabled");
  // The caller says it once per run (RunContext::limits_fallback), not once per server.
  auto warn = [&](const std::string& event, const std::string& message) {
    if (request.warn) request.warn(event, message);
  };

  CgroupProbe probe = probe_cgroups();
  BackendChoice choice = choose_backend(probe, requested, disabled);
  if (choice.systemd_scope) {
    // Ask the user manager for a delegated scope holding guardian and its children (the
    // sentinel), in the caller's slice and part of the caller's unit, then look again.
    const CgroupProbe caller = probe;
    std::vector<pid_t> pids{::getpid()};
    for (pid_t child : process::ProcFs{}.children(::getpid())) pids.push_back(child);
    auto placement = scope_placement(probe.own_dir(), probe.systemd_manager_dir);
    if (auto error = move_into_delegated_scope(fmt::format("guardian-{}.scope", ::getpid()), pids, placement)) {
      choice = choose_backend(probe, requested, disabled, false);
      choice.reason += "; " + error->message;
    } else {
      probe = probe_cgroups();
      choice = choose_backend(probe, requested, disabled, false);
      choice.reason += " (a delegated scope obtained from the systemd user manager)";
    }
    keep_enclosing_limits(caller, probe);
  }
  if (choice.backend == Backend::none)
    return std::make_unique<ProcessTreeLimiter>(request.executor, std::move(request.membership), choice.reason);

  Ceilings ceilings = compute_ceilings(config, capacity_of(this_machine(), probe));
  if (auto lowered = cap_to_enclosing(ceilings, probe); lowered && request.warn) request.warn("limits.capped", *lowered);
  std::string watchdog_reason = choice.reason;

  if (choice.backend == Backend::cgroup_v2) {
    CgroupFs fs(probe.v2_mount);
    // The run's cgroups, shared by every unit (the main command, each server) of the session.
    auto tree = request.run_cgroups ? request.run_cgroups->tree(fs, choice, ceilings)
                                    : CgroupRunTree::create(fs, choice, ceilings);
    std::optional<Error> failure;
    if (tree) {
      CgroupV2Limiter::Options options{ceilings, request.unit_name, config.text("limits.cgroup_kill") != "freeze",
                                       choice.reason, choice.missing_controllers};
      options.memory_high_stall = config.duration("limits.memory_high_stall").value_or(options.memory_high_stall);
      options.pids_grace = config.duration("limits.pids_grace").value_or(options.pids_grace);
      // A copy: the watchdog below still needs the membership should the cgroup fail.
      auto limiter = CgroupV2Limiter::create(request.executor, std::move(*tree), std::move(options), request.membership);
      if (limiter) {
        if (!choice.missing_controllers.empty())
          warn("limits.partial", fmt::format("cgroup v2: the {} controller(s) are not available in {}: those ceilings "
                                             "are NOT enforced.{}",
                                             fmt::join(choice.missing_controllers, ", "),
                                             fs.path(choice.parent_dir), fixes_text(choice)));
        return std::move(*limiter);
      }
      failure = limiter.error();
    } else {
      failure = tree.error();
    }
    if (requested == "cgroup_v2")
      throw config::ConfigError(fmt::format("limits.backend = cgroup_v2, but setting up the cgroup failed: {}.{}",
                                            failure->message, fixes_text(choice)));
    if (failure->permission_denied()) {
      warn("limits.permission_denied",
           fmt::format("cgroup v2 setup failed: {}. Falling back to the /proc watchdog. Give guardian a delegated "
                       "cgroup (systemd-run --user --scope -p Delegate=yes -- guardian run …) or run 'guardian doctor'.",
                       failure->message));
    } else {
      warn("limits.cgroup_failed", fmt::format("cgroup v2 setup failed: {}. Falling back to the /proc watchdog; "
                                               "run 'guardian doctor'.",
                                               failure->message));
    }
    watchdog_reason = "cgroup v2 setup failed: " + failure->message;
  } else if (requested == "cgroup_v2") {
    throw config::ConfigError(
        fmt::format("limits.backend = cgroup_v2, but {}.{}", choice.reason, fixes_text(choice)));
  } else if (requested == "auto" && choice.permission_problem) {
    warn("limits.permission_denied",
         fmt::format("cgroup v2 ceilings are unavailable ({}): falling back to the /proc watchdog, which samples "
                     "and signals the tree.{} Run 'guardian doctor' for details.",
                     choice.reason, fixes_text(choice)));
  } else if (requested == "auto") {
    warn("limits.fallback",
         fmt::format("cgroup v2 ceilings are unavailable ({}): falling back to the /proc watchdog, which samples "
                     "and signals the tree. Run 'guardian doctor' for how to get kernel-enforced ceilings.",
                     choice.reason));
  }

  WatchdogLimiter::Options options;
  options.ceilings = ceilings;
  // Never a busy loop: at most 100 samples a second.
  options.interval = std::max(std::chrono::milliseconds(10),
                              config.duration("limits.watchdog.interval").value_or(options.interval));
  options.memory_grace = config.duration("limits.watchdog.memory_grace").value_or(options.memory_grace);
  options.reason = watchdog_reason;
  return std::make_unique<WatchdogLimiter>(request.executor, std::move(request.membership), std::move(options));
}

}  // namespace guardian::limits
