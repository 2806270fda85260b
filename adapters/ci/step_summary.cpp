#include "adapters/ci/step_summary.hpp"

#include <fcntl.h>
#include <unistd.h>

#include <cerrno>

#include <fmt/format.h>
#include <fmt/ranges.h>

#include "guardian/config/quantity.hpp"

namespace guardian::adapters::ci {
namespace {

constexpr std::size_t kMaxFailuresListed = 20;
constexpr std::size_t kMaxAlertsListed = 20;
constexpr std::size_t kMaxCellChars = 300;

// One table cell: no line breaks, no stray pipes, not too long.
std::string cell(std::string_view text) {
  std::string out;
  for (char c : text) {
    if (out.size() >= kMaxCellChars) {
      out += "…";
      break;
    }
    if (c == '|') out += "\\|";
    else if (c == '\n') out += "<br>";
    else if (c == '\r') continue;
    else out += c;
  }
  return out;
}

std::string code(std::string_view text) { return "`" + cell(std::string(text.substr(0, text.find('`')))) + "`"; }

std::string seconds_text(double s) { return s < 10 ? fmt::format("{:.2f} s", s) : fmt::format("{:.1f} s", s); }

std::string headline(const nlohmann::json& report) {
  std::string command;
  for (const auto& word : report.value("command", nlohmann::json::array())) {
    if (!command.empty()) command += ' ';
    command += word.get<std::string>();
  }
  const int exit_code = report.value("exit_code", 0);
  const std::string outcome = report.value("outcome", "");
  std::string how;
  if (report.value("timed_out", false)) how = "timed out";
  else if (report.contains("signal") && report["signal"].is_string())
    how = "was killed by " + report["signal"].get<std::string>();
  else if (outcome == "not_found" || outcome == "not_executable" || outcome == "failed_to_start") how = "did not start";
  else if (report.contains("child_exit_code") && report["child_exit_code"].is_number_integer())
    how = fmt::format("exited with {}", report["child_exit_code"].get<int>());
  else how = fmt::format("ended with exit {}", exit_code);
  return fmt::format("### {} guardian: {} {}\n\n", exit_code == 0 ? "✅" : "❌", code(command), how);
}

std::string memory_line(const nlohmann::json& report) {
  const auto peak = report.value("/resources/peak_memory_bytes"_json_pointer, std::uint64_t{0});
  const nlohmann::json ceilings = report.value("/enforcement/ceilings"_json_pointer, nlohmann::json::object());
  std::string text = config::format_bytes(peak);
  if (ceilings.contains("memory_max_bytes") && ceilings["memory_max_bytes"].is_number_unsigned()) {
    auto ceiling = ceilings["memory_max_bytes"].get<std::uint64_t>();
    if (ceiling > 0)
      text += fmt::format(" of {} ceiling ({:.1f} %)", config::format_bytes(ceiling),
                          100.0 * static_cast<double>(peak) / static_cast<double>(ceiling));
  } else {
    text += " (no memory ceiling)";
  }
  return text;
}

std::string tests_block(const nlohmann::json& tests) {
  if (!tests.is_object()) return "";
  std::string out;
  const nlohmann::json counts = tests.value("counts", nlohmann::json::object());
  std::vector<std::string> parts;
  for (const auto* name : {"passed", "failed", "error", "skipped", "xfailed", "xpassed"})
    if (counts.value(name, 0) > 0) parts.push_back(fmt::format("{} {}", counts.value(name, 0), name));
  out += fmt::format("#### Tests ({}): {} — {} in {}\n\n", tests.value("source", "tests"),
                     parts.empty() ? "none ran" : fmt::format("{}", fmt::join(parts, ", ")), tests.value("total", 0),
                     seconds_text(tests.value("duration_s", 0.0)));
  const nlohmann::json failures = tests.value("failures", nlohmann::json::array());
  if (!failures.empty()) {
    out += "| Failed test | Outcome | Message |\n|---|---|---|\n";
    for (std::size_t i = 0; i < failures.size() && i < kMaxFailuresListed; ++i)
      out += fmt::format("| {} | {} | {} |\n", code(failures[i].value("nodeid", "")), failures[i].value("outcome", ""),
                         cell(failures[i].value("text", "")));
    if (failures.size() > kMaxFailuresListed)
      out += fmt::format("\n… and {} more failures (report.json has them all).\n", failures.size() - kMaxFailuresListed);
    out += "\n";
  }
  const nlohmann::json slowest = tests.value("slowest", nlohmann::json::array());
  if (!slowest.empty()) {
    out += "<details><summary>Slowest tests</summary>\n\n| Test | Duration | Outcome |\n|---|---|---|\n";
    for (const auto& test : slowest)
      out += fmt::format("| {} | {} | {} |\n", code(test.value("nodeid", "")), seconds_text(test.value("duration_s", 0.0)),
                         test.value("outcome", ""));
    out += "\n</details>\n\n";
  }
  // report.json's "heaviest": by resident peak while the test ran, then CPU time.
  const nlohmann::json heaviest = tests.value("heaviest", nlohmann::json::array());
  if (!heaviest.empty()) {
    out += "<details><summary>Heaviest tests (peak memory, CPU)</summary>\n\n| Test | Peak memory | CPU | Duration |\n"
           "|---|---|---|---|\n";
    for (const auto& test : heaviest)
      out += fmt::format("| {} | {} | {} | {} |\n", code(test.value("nodeid", "")),
                         config::format_bytes(test.value("peak_memory_bytes", std::uint64_t{0})),
                         seconds_text(test.value("cpu_ms", 0.0) / 1000.0),
                         seconds_text(test.value("duration_ms", 0.0) / 1000.0));
    out += "\n</details>\n\n";
  }
  return out;
}

std::string alerts_block(const nlohmann::json& history) {
  if (!history.is_array() || history.empty()) return "";
  std::string out = "#### Alerts\n\n| Severity | Type | Title |\n|---|---|---|\n";
  std::size_t first = history.size() > kMaxAlertsListed ? history.size() - kMaxAlertsListed : 0;
  for (std::size_t i = first; i < history.size(); ++i)
    out += fmt::format("| {} | {} | {} |\n", history[i].value("severity", ""), history[i].value("type", ""),
                       cell(history[i].value("title", "")));
  if (first > 0) out += fmt::format("\n(the last {} of {} alerts)\n", kMaxAlertsListed, history.size());
  return out + "\n";
}

}  // namespace

std::string job_summary_markdown(const nlohmann::json& report, const nlohmann::json& alert_history) {
  std::string out = headline(report);
  out += "| | |\n|---|---|\n";
  out += fmt::format("| Exit code | {}{} |\n", report.value("exit_code", 0),
                     report.contains("killed_by") && report["killed_by"].is_string()
                         ? " (" + report["killed_by"].get<std::string>() + ")"
                         : "");
  if (report.contains("stop_reason") && report["stop_reason"].is_string())
    out += fmt::format("| Stopped by | {} |\n", cell(report["stop_reason"].get<std::string>()));
  out += fmt::format("| Duration | {} |\n", seconds_text(report.value("duration_ms", 0) / 1000.0));
  out += fmt::format("| Peak memory | {} |\n", memory_line(report));
  out += fmt::format("| Mode · backend | {} · {} |\n", report.value("mode", "?"),
                     report.value("/enforcement/backend"_json_pointer, std::string("?")));
  const nlohmann::json alerts = report.value("alerts", nlohmann::json::object());
  std::vector<std::string> by_type;
  const nlohmann::json by_type_counts = alerts.value("by_type", nlohmann::json::object());
  for (const auto& [type, counts] : by_type_counts.items())
    by_type.push_back(fmt::format("{} {}", type, counts.value("emitted", 0)));
  out += fmt::format("| Alerts | {}{} |\n", alerts.value("emitted", 0),
                     by_type.empty() ? "" : fmt::format(" ({})", fmt::join(by_type, ", ")));
  out += fmt::format("| Run | {} |\n\n", code(report.value("run_id", "")));
  out += tests_block(report.value("tests", nlohmann::json()));
  out += alerts_block(alert_history);
  for (const auto& warning : report.value("/junit/warnings"_json_pointer, nlohmann::json::array()))
    out += fmt::format("> ⚠️ JUnit: {}\n\n", cell(warning.get<std::string>()));
  return out;
}

std::error_code append_step_summary(const std::filesystem::path& path, const std::string& markdown) {
  int fd = ::open(path.c_str(), O_WRONLY | O_APPEND | O_CREAT | O_CLOEXEC, 0644);
  if (fd < 0) return {errno, std::generic_category()};
  std::string_view rest = markdown;
  while (!rest.empty()) {
    ssize_t n = ::write(fd, rest.data(), rest.size());
    if (n < 0 && errno == EINTR) continue;
    if (n < 0) {
      std::error_code error(errno, std::generic_category());
      ::close(fd);
      return error;
    }
    rest.remove_prefix(static_cast<std::size_t>(n));
  }
  if (::close(fd) != 0) return {errno, std::generic_category()};
  return {};
}

}  // namespace guardian::adapters::ci
