// DesktopSession: a private D-Bus session bus and a real notification daemon (dunst under
// Xvfb) for tests, with what the daemon received. Sets DBUS_SESSION_BUS_ADDRESS and DISPLAY
// in this process's environment, so a plugin host here or a guardian started from here uses
// them; each test runs in its own process (gtest_discover_tests), so nothing leaks.
#pragma once

#include <chrono>
#include <filesystem>
#include <map>
#include <memory>
#include <string>
#include <vector>

#include "support/subprocess.hpp"

namespace guardian::testing {

class DesktopSession {
 public:
  /// Everything it starts writes under `root`. Unsets DISPLAY and the bus address, and points
  /// XDG_RUNTIME_DIR at `root` so nothing reaches the real user's bus.
  explicit DesktopSession(std::filesystem::path root);

  /// dbus-daemon with no service directories. False (with `why`) if it did not come up.
  bool start_bus(std::string& why);
  /// Xvfb on a free display, then dunst recording every notification in received().
  bool start_dunst(std::string& why);
  /// Whether org.freedesktop.Notifications has an owner on the bus.
  bool name_owned(std::chrono::milliseconds timeout);
  /// One map (app, summary, body, urgency) per notification dunst received, in order.
  std::vector<std::map<std::string, std::string>> received() const;

  /// Starts a helper process that lives as long as the session (e.g. a fake daemon).
  Subprocess& spawn(std::vector<std::string> argv);

 private:
  std::filesystem::path root_;
  std::filesystem::path record_;
  std::vector<std::unique_ptr<Subprocess>> children_;
};

}  // namespace guardian::testing
