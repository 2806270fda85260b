#include "monitor_support.hpp"

#include <sys/syscall.h>
#include <unistd.h>

#include <fstream>
#include <sstream>
#include <thread>

namespace guardian::testing::monitor {
namespace {

std::string read_all(const fs::path& path) {
  std::ifstream in(path);
  std::stringstream s;
  s << in.rdbuf();
  return s.str();
}

// The fields after "(comm)" of /proc/<pid>/stat, numbered from 3 as in proc(5).
std::vector<std::string> stat_fields(pid_t pid) {
  std::string text = read_all("/proc/" + std::to_string(pid) + "/stat");
  auto close = text.rfind(')');
  if (close == std::string::npos) return {};
  std::istringstream rest(text.substr(close + 2));
  std::vector<std::string> fields{"", "", ""};
  for (std::string field; rest >> field;) fields.push_back(field);
  return fields;
}

}  // namespace

void write_config(const fs::path& dir, const std::string& extra, const std::string& monitor_keys) {
  std::ofstream out(dir / "guardian.toml");
  out << "[monitor]\ncalm_period = \"1s\"\n" << monitor_keys << "\n" << R"([monitor.normal]
check_interval = "200ms"
report_interval = "1s"
[monitor.intensive]
check_interval = "100ms"
report_interval = "1s"
[monitor.critical]
check_interval = "100ms"
report_interval = "1s"
)" << extra << "\n";
}

std::vector<std::string> run_shell(std::vector<std::string> flags, const std::string& script) {
  std::vector<std::string> args{"run"};
  args.insert(args.end(), flags.begin(), flags.end());
  args.insert(args.end(), {"--", "/bin/sh", "-c", script});
  return args;
}

std::vector<Json> events_so_far(const fs::path& dir) {
  std::vector<Json> out;
  std::error_code error;
  for (const auto& entry : fs::directory_iterator(dir / ".guardian" / "runs", error)) {
    std::ifstream in(entry.path() / "events.jsonl");
    for (std::string line; std::getline(in, line);) {
      auto json = Json::parse(line, nullptr, false);
      if (!json.is_discarded()) out.push_back(std::move(json));  // a line being written is skipped
    }
  }
  return out;
}

std::optional<Json> wait_for_event(const fs::path& dir, const std::function<bool(const Json&)>& match,
                                   std::chrono::milliseconds timeout) {
  auto deadline = std::chrono::steady_clock::now() + timeout;
  do {
    for (const auto& event : events_so_far(dir))
      if (match(event)) return event;
    std::this_thread::sleep_for(50ms);
  } while (std::chrono::steady_clock::now() < deadline);
  return std::nullopt;
}

std::vector<Json> named(const std::vector<Json>& events, const std::string& name) {
  std::vector<Json> out;
  for (const auto& event : events)
    if (event.value("event", "") == name) out.push_back(event);
  return out;
}

std::optional<MarkedProcess> wait_for_process(const std::string& marker, const std::string& prefix,
                                              std::chrono::milliseconds timeout) {
  auto deadline = std::chrono::steady_clock::now() + timeout;
  do {
    for (const auto& process : processes_with_marker(marker))
      if (process.cmdline.starts_with(prefix)) return process;
    std::this_thread::sleep_for(50ms);
  } while (std::chrono::steady_clock::now() < deadline);
  return std::nullopt;
}

std::optional<int> nice_of(pid_t pid) {
  auto fields = stat_fields(pid);
  if (fields.size() <= 19) return std::nullopt;
  return std::stoi(fields[19]);
}

std::optional<int> io_class_of(pid_t pid) {
  long value = ::syscall(SYS_ioprio_get, 1 /* IOPRIO_WHO_PROCESS */, pid);
  if (value < 0) return std::nullopt;
  return static_cast<int>(value >> 13);
}

ProcTotals proc_totals(const std::string& marker, const std::string& program) {
  static const std::uint64_t page = static_cast<std::uint64_t>(::sysconf(_SC_PAGESIZE));
  ProcTotals totals;
  for (const auto& process : processes_with_marker(marker)) {
    if (!process.cmdline.starts_with(program)) continue;
    auto fields = stat_fields(process.pid);
    if (fields.size() <= 24) continue;
    totals.processes += 1;
    totals.threads += std::stoull(fields[20]);
    totals.rss_bytes += std::stoull(fields[24]) * page;
    std::error_code error;
    for (auto it = fs::directory_iterator("/proc/" + std::to_string(process.pid) + "/fd", error);
         !error && it != fs::directory_iterator(); it.increment(error))
      ++totals.open_fds;
  }
  return totals;
}

}  // namespace guardian::testing::monitor
