#pragma once
// Tells a flapping server (down again and again within a window) from one that went down
// once: the N-th down within the window starts a flapping phase, in which each single down
// and recovery is no longer news (one SERVER_FLAPPING stands for the whole restart storm);
// the phase ends when the server has stayed healthy for the stable period.
#include <chrono>
#include <cstddef>

#include "guardian/health/recent_events.hpp"

namespace guardian::health {

class FlapDetector {
 public:
  using TimePoint = std::chrono::steady_clock::time_point;
  using Milliseconds = std::chrono::milliseconds;

  enum class Down {
    single,           // not flapping: an ordinary SERVER_DOWN
    starts_flapping,  // this down makes it flapping
    while_flapping,   // one more down of a flapping server
  };

  /// `downs` downs within `window` make a server flapping; 0 turns detection off.
  FlapDetector(unsigned downs, Milliseconds window);

  Down record_down(TimePoint now);
  bool flapping() const { return flapping_; }
  /// Stable again: the phase is over, and the downs before it are forgiven.
  void end();
  /// Downs within the window as of the last record_down.
  std::size_t recent_downs() const { return downs_.count(); }
  /// Downs since the flapping phase began (the one that started it included).
  unsigned downs_while_flapping() const { return downs_in_phase_; }
  unsigned threshold() const { return threshold_; }
  Milliseconds window() const { return downs_.window(); }

 private:
  unsigned threshold_;
  RecentEvents downs_;
  bool flapping_ = false;
  unsigned downs_in_phase_ = 0;
};

}  // namespace guardian::health
