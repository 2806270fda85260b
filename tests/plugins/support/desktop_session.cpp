#include "support/desktop_session.hpp"

#include <cstdlib>
#include <fstream>

namespace guardian::testing {
namespace {

using namespace std::chrono_literals;

const std::filesystem::path notify_dir = std::filesystem::path(TEST_PLUGINS_SOURCE_DIR) / "notify";

std::string first_line(const std::string& text) {
  return text.substr(0, text.find('\n'));
}

}  // namespace

DesktopSession::DesktopSession(std::filesystem::path root) : root_(std::move(root)) {
  ::setenv("XDG_RUNTIME_DIR", root_.c_str(), 1);
  ::unsetenv("DISPLAY");
  ::unsetenv("DBUS_SESSION_BUS_ADDRESS");
}

Subprocess& DesktopSession::spawn(std::vector<std::string> argv) {
  children_.push_back(std::make_unique<Subprocess>(std::move(argv), root_));
  return *children_.back();
}

bool DesktopSession::start_bus(std::string& why) {
  auto& bus = spawn({"dbus-daemon", "--config-file=" + (notify_dir / "session.conf").string(), "--nofork",
                     "--print-address=1"});
  if (!wait_until([&] { return bus.stdout_text().find('\n') != std::string::npos; }, 10s)) {
    why = "dbus-daemon did not print its address: " + bus.stderr_text();
    return false;
  }
  ::setenv("DBUS_SESSION_BUS_ADDRESS", first_line(bus.stdout_text()).c_str(), 1);
  return true;
}

bool DesktopSession::start_dunst(std::string& why) {
  auto& xvfb = spawn({"Xvfb", "-displayfd", "1", "-nolisten", "tcp"});
  if (!wait_until([&] { return xvfb.stdout_text().find('\n') != std::string::npos; }, 20s)) {
    why = "Xvfb did not start: " + xvfb.stderr_text();
    return false;
  }
  ::setenv("DISPLAY", (":" + first_line(xvfb.stdout_text())).c_str(), 1);
  record_ = root_ / "received.txt";
  ::setenv("GUARDIAN_NOTIFY_RECORD", record_.c_str(), 1);
  std::ofstream(root_ / "dunstrc") << "[global]\n    font = Monospace 8\n\n[record]\n    summary = \"*\"\n"
                                   << "    script = " << (notify_dir / "record.sh").string() << "\n";
  auto& dunst = spawn({"dunst", "-config", (root_ / "dunstrc").string()});
  if (!name_owned(20s)) {
    why = "dunst did not take org.freedesktop.Notifications: " + dunst.stderr_text();
    return false;
  }
  return true;
}

bool DesktopSession::name_owned(std::chrono::milliseconds timeout) {
  return wait_until(
      [&] {
        Subprocess ask({"gdbus", "call", "--session", "--dest", "org.freedesktop.DBus", "--object-path",
                        "/org/freedesktop/DBus", "--method", "org.freedesktop.DBus.NameHasOwner",
                        "org.freedesktop.Notifications"},
                       root_);
        ask.wait(5s);
        return ask.stdout_text().find("true") != std::string::npos;
      },
      timeout);
}

std::vector<std::map<std::string, std::string>> DesktopSession::received() const {
  // record.sh appends key=value lines and "--" after each notification; a body may span lines.
  std::vector<std::map<std::string, std::string>> out(1);
  std::string key;
  for (const auto& line : read_lines(record_)) {
    if (line == "--") {
      out.emplace_back();
      key.clear();
      continue;
    }
    const auto eq = line.find('=');
    if (eq != std::string::npos && (line.rfind("app=", 0) == 0 || line.rfind("summary=", 0) == 0 ||
                                    line.rfind("body=", 0) == 0 || line.rfind("urgency=", 0) == 0)) {
      key = line.substr(0, eq);
      out.back()[key] = line.substr(eq + 1);
    } else if (!key.empty()) {
      out.back()[key] += "\n" + line;
    }
  }
  out.pop_back();
  return out;
}

}  // namespace guardian::testing
