#include "guardian/monitor/resource_protector.hpp"

#include <fnmatch.h>

#include <algorithm>
#include <fmt/format.h>

#include "guardian/config/quantity.hpp"

namespace guardian::monitor {

std::string_view to_string(ProtectMode mode) {
  switch (mode) {
    case ProtectMode::off: return "off";
    case ProtectMode::renice: return "renice";
    case ProtectMode::kill: return "kill";
  }
  return "unknown";
}

std::optional<ProtectMode> parse_protect_mode(std::string_view text) {
  if (text == "off") return ProtectMode::off;
  if (text == "renice") return ProtectMode::renice;
  if (text == "kill") return ProtectMode::kill;
  return std::nullopt;
}

std::string_view to_string(ActionKind kind) {
  switch (kind) {
    case ActionKind::renice: return "renice";
    case ActionKind::terminate: return "terminate";
    case ActionKind::spare: return "spare";
    case ActionKind::breaker_open: return "breaker_open";
  }
  return "unknown";
}

ResourceProtector::ResourceProtector(ProtectorPolicy policy) : policy_(std::move(policy)) {
  if (policy_.persistence_checks < 1) policy_.persistence_checks = 1;
}

bool ResourceProtector::needs_walk(std::optional<double> tree_cpu, double tree_memory) const {
  if (!active()) return false;
  return (tree_cpu && *tree_cpu >= policy_.cpu_percent_of_ceiling) ||
         tree_memory >= policy_.memory_percent_of_ceiling;
}

bool ResourceProtector::is_protected(const ProcessIdentity& identity) const {
  for (const auto& pattern : policy_.protected_patterns) {
    if (pattern.empty()) continue;
    if (::fnmatch(pattern.c_str(), identity.name.c_str(), 0) == 0) return true;
    if (::fnmatch(pattern.c_str(), identity.command_line.c_str(), 0) == 0) return true;
  }
  return false;
}

void ResourceProtector::calm() {
  for (auto& [key, tracked] : tracked_) {
    tracked.streak = 0;
    tracked.monopolising_since.reset();
  }
}

bool ResourceProtector::admit(SteadyTime now, std::vector<ProtectorAction>& out) {
  while (!recent_actions_.empty() && now - recent_actions_.front() >= policy_.breaker_window)
    recent_actions_.pop_front();
  if (static_cast<int>(recent_actions_.size()) >= policy_.breaker_actions) {
    breaker_open_ = true;
    ProtectorAction breaker;
    breaker.kind = ActionKind::breaker_open;
    breaker.reason = fmt::format("the protector acted {} times within {}; it stops acting so it cannot thrash "
                                 "the tree — find out what keeps overloading it",
                                 recent_actions_.size(), config::format_duration(policy_.breaker_window));
    out.push_back(std::move(breaker));
    return false;
  }
  recent_actions_.push_back(now);
  return true;
}

std::vector<ProtectorAction> ResourceProtector::evaluate(SteadyTime now, const std::vector<ProcessUse>& processes,
                                                         const IdentityLookup& identify) {
  std::vector<ProtectorAction> out;
  if (!active()) return out;
  for (auto& [key, tracked] : tracked_) tracked.seen = false;

  for (const auto& process : processes) {
    Tracked& tracked = tracked_[Key{process.pid, process.start_ticks}];
    tracked.seen = true;
    if (breaker_open_) continue;
    bool cpu_high = process.cpu_percent_of_ceiling && *process.cpu_percent_of_ceiling >= policy_.cpu_percent_of_ceiling;
    bool memory_high = process.memory_percent_of_ceiling >= policy_.memory_percent_of_ceiling;
    if (!cpu_high && !memory_high) {
      tracked.streak = 0;
      tracked.monopolising_since.reset();
      continue;
    }
    if (++tracked.streak < policy_.persistence_checks) continue;
    if (!tracked.monopolising_since) tracked.monopolising_since = now;

    std::string reason =
        cpu_high ? fmt::format("cpu at {:.0f}% of the ceiling (limit {:.0f}%) for {} checks",
                               *process.cpu_percent_of_ceiling, policy_.cpu_percent_of_ceiling, tracked.streak)
                 : fmt::format("memory at {:.0f}% of the ceiling (limit {:.0f}%) for {} checks",
                               process.memory_percent_of_ceiling, policy_.memory_percent_of_ceiling, tracked.streak);
    if (!tracked.identity && identify) tracked.identity = identify(process.pid);
    ProcessIdentity identity = tracked.identity.value_or(ProcessIdentity{});
    auto action = [&](ActionKind kind, std::string why) {
      return ProtectorAction{kind, process.pid, process.start_ticks, identity.name, identity.command_line,
                             std::move(why)};
    };

    if (process.is_root || is_protected(identity)) {
      if (!tracked.spared) {
        tracked.spared = true;
        ++counts_.spared;
        out.push_back(action(ActionKind::spare,
                             reason + (process.is_root ? "; it is the command's own process, never touched"
                                                       : "; it matches the protected list, never touched")));
      }
      continue;
    }

    if (!tracked.reniced_at) {
      if (!admit(now, out)) continue;
      tracked.reniced_at = now;
      ++counts_.reniced;
      out.push_back(action(ActionKind::renice, reason));
      continue;
    }
    if (policy_.mode == ProtectMode::kill && !tracked.terminated) {
      SteadyTime since = std::max(*tracked.reniced_at, *tracked.monopolising_since);
      if (now - since < policy_.grace) continue;
      if (!admit(now, out)) continue;
      tracked.terminated = true;
      ++counts_.terminated;
      out.push_back(action(ActionKind::terminate,
                           fmt::format("{}, still after renice and a grace period of {}", reason,
                                       config::format_duration(policy_.grace))));
    }
  }
  std::erase_if(tracked_, [](const auto& entry) { return !entry.second.seen; });
  return out;
}

bool ResourceProtector::allow_disk_cleanup(SteadyTime now, std::optional<ProtectorAction>& breaker) {
  if (!active()) return false;
  std::vector<ProtectorAction> out;
  if (!admit(now, out)) {
    if (!out.empty()) breaker = std::move(out.front());
    return false;
  }
  ++counts_.disk_cleanups;
  return true;
}

}  // namespace guardian::monitor
