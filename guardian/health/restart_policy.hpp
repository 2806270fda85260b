#pragma once
// When a server that went down is started again (always | on-failure | never), and how
// long to wait first: an exponential backoff with a cap that starts over once the server
// has stayed up for a stable period.
#include <chrono>
#include <optional>
#include <string_view>

namespace guardian::health {

enum class RestartPolicy { always, on_failure, never };
std::string_view to_string(RestartPolicy policy);
std::optional<RestartPolicy> parse_restart_policy(std::string_view text);

/// Whether to restart after the server went down. `clean_exit`: it exited by itself with 0
/// (on-failure leaves such a server down; a lost health check is always a failure).
bool should_restart(RestartPolicy policy, bool clean_exit);

class RestartBackoff {
 public:
  using Milliseconds = std::chrono::milliseconds;
  RestartBackoff(Milliseconds first_delay, Milliseconds cap, Milliseconds stable_uptime);

  /// The delay before the next start. `uptime`: how long the server had been healthy
  /// before it went down (nullopt: it never became healthy). An uptime of at least the
  /// stable period starts the backoff over.
  Milliseconds next_delay(std::optional<Milliseconds> uptime);
  /// Restarts in a row without a stable uptime in between.
  unsigned streak() const { return streak_; }

 private:
  Milliseconds first_delay_;
  Milliseconds cap_;
  Milliseconds stable_uptime_;
  unsigned streak_ = 0;
};

}  // namespace guardian::health
