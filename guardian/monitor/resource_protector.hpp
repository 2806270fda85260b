#pragma once
// ResourceProtector: the pure decisions of the protector. Fed the per-process use of the
// tree at each check, it decides which single process monopolises the tree (above a share
// of the CPU or memory ceiling for N consecutive checks), whether to renice it or — past a
// grace period, under --protect kill — to stop it, which processes must be spared (the
// command's own root, the protected list), and when to stop acting altogether (circuit
// breaker: more than K actions in a window). Acting is process_actions.hpp's job.
#include <sys/types.h>

#include <chrono>
#include <deque>
#include <functional>
#include <map>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "guardian/monitor/progressive_monitor.hpp"

namespace guardian::monitor {

enum class ProtectMode { off, renice, kill };
std::string_view to_string(ProtectMode mode);
std::optional<ProtectMode> parse_protect_mode(std::string_view text);

struct ProtectorPolicy {
  ProtectMode mode = ProtectMode::renice;
  double cpu_percent_of_ceiling = 80;     // a single process above this share of the CPU ceiling…
  double memory_percent_of_ceiling = 80;  // …or of the memory ceiling…
  int persistence_checks = 3;             // …for this many consecutive checks monopolises
  std::chrono::milliseconds grace{std::chrono::seconds(30)};      // renice → SIGTERM (kill mode)
  std::chrono::milliseconds kill_after{std::chrono::seconds(5)};  // SIGTERM → SIGKILL
  int breaker_actions = 5;                                        // K
  std::chrono::milliseconds breaker_window{std::chrono::minutes(10)};
  std::vector<std::string> protected_patterns;  // fnmatch(3) against the name and the command line
};

/// One process of the tree at one check.
struct ProcessUse {
  pid_t pid = 0;
  std::uint64_t start_ticks = 0;  // with pid, identifies the process across pid reuse
  std::optional<double> cpu_percent_of_ceiling;  // empty on the first sight (no rate yet)
  double memory_percent_of_ceiling = 0;
  bool is_root = false;  // the command's own process
};

/// What a process is called, looked up only for processes that matter.
struct ProcessIdentity {
  std::string name;          // comm
  std::string command_line;  // argv joined by spaces
};
using IdentityLookup = std::function<ProcessIdentity(pid_t)>;

enum class ActionKind {
  renice,        // nice 19 + ionice idle
  terminate,     // SIGTERM now, SIGKILL after kill_after
  spare,         // monopolising but protected: never touched (said once)
  breaker_open,  // too many actions: the protector stops and raises a critical condition
};
std::string_view to_string(ActionKind kind);

struct ProtectorAction {
  ActionKind kind = ActionKind::renice;
  pid_t pid = 0;
  std::uint64_t start_ticks = 0;
  std::string name;
  std::string command_line;
  std::string reason;  // "cpu at 97% of the ceiling for 3 checks"
};

class ResourceProtector {
 public:
  explicit ResourceProtector(ProtectorPolicy policy);

  const ProtectorPolicy& policy() const { return policy_; }
  bool active() const { return policy_.mode != ProtectMode::off && !breaker_open_; }
  bool breaker_open() const { return breaker_open_; }

  /// Whether a per-process walk could find a monopoliser: no single process can exceed a
  /// share of the ceiling that the whole tree does not reach.
  bool needs_walk(std::optional<double> tree_cpu_percent_of_ceiling, double tree_memory_percent_of_ceiling) const;

  /// One check with a walk: the whole tree's processes.
  std::vector<ProtectorAction> evaluate(SteadyTime now, const std::vector<ProcessUse>& processes,
                                        const IdentityLookup& identify);
  /// One check without a walk (the tree is below the shares): every streak breaks.
  void calm();

  /// Asks for a disk clean-up; false when the protector may not act (off, breaker open,
  /// or this request is the one that opens the breaker — then `breaker` is filled).
  bool allow_disk_cleanup(SteadyTime now, std::optional<ProtectorAction>& breaker);

  /// Whether `identity` matches the protected list.
  bool is_protected(const ProcessIdentity& identity) const;

  struct Counts {
    int reniced = 0;
    int terminated = 0;
    int spared = 0;
    int disk_cleanups = 0;
  };
  const Counts& counts() const { return counts_; }

 private:
  struct Tracked {
    int streak = 0;
    std::optional<SteadyTime> monopolising_since;
    std::optional<SteadyTime> reniced_at;
    bool terminated = false;
    bool spared = false;
    bool seen = false;
    std::optional<ProcessIdentity> identity;  // looked up once, when it first matters
  };
  using Key = std::pair<pid_t, std::uint64_t>;

  /// Counts an action against the breaker; false (and opens it) when over the limit.
  bool admit(SteadyTime now, std::vector<ProtectorAction>& out);

  ProtectorPolicy policy_;
  std::map<Key, Tracked> tracked_;
  std::deque<SteadyTime> recent_actions_;
  bool breaker_open_ = false;
  Counts counts_;
};

}  // namespace guardian::monitor
