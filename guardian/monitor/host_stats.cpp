#include "guardian/monitor/host_stats.hpp"

#include <dirent.h>
#include <sched.h>
#include <sys/stat.h>
#include <sys/statvfs.h>
#include <unistd.h>

#include <charconv>

#include "guardian/process/read_small_file.hpp"

namespace guardian::monitor {
namespace {

using process::read_small_file;

template <typename T>
bool parse_number(std::string_view field, T& out) {
  auto [end, ec] = std::from_chars(field.data(), field.data() + field.size(), out);
  return ec == std::errc{} && end == field.data() + field.size();
}

std::string_view next_token(std::string_view& rest) {
  while (!rest.empty() && (rest.front() == ' ' || rest.front() == '\t')) rest.remove_prefix(1);
  auto end = rest.find_first_of(" \t\n");
  auto token = rest.substr(0, end);
  rest = end == std::string_view::npos ? std::string_view{} : rest.substr(end);
  return token;
}

// The value of "Name:   123 kB" lines.
std::optional<std::uint64_t> field_value(std::string_view text, std::string_view name) {
  std::size_t pos = 0;
  while (pos < text.size()) {
    auto end = text.find('\n', pos);
    auto line = text.substr(pos, end == std::string_view::npos ? std::string_view::npos : end - pos);
    if (line.size() > name.size() && line.starts_with(name) && line[name.size()] == ':') {
      auto rest = line.substr(name.size() + 1);
      std::uint64_t value = 0;
      if (parse_number(next_token(rest), value)) return value;
      return std::nullopt;
    }
    if (end == std::string_view::npos) break;
    pos = end + 1;
  }
  return std::nullopt;
}

}  // namespace

std::optional<CpuTimes> parse_proc_stat(std::string_view text) {
  if (!text.starts_with("cpu ")) return std::nullopt;
  auto line = text.substr(0, text.find('\n'));
  line.remove_prefix(4);
  // user nice system idle iowait irq softirq steal guest guest_nice; guest time is
  // already counted in user/nice, so only the first eight make the total.
  CpuTimes times;
  for (int index = 0; index < 8; ++index) {
    auto token = next_token(line);
    if (token.empty()) {
      if (index < 4) return std::nullopt;
      break;
    }
    std::uint64_t value = 0;
    if (!parse_number(token, value)) return std::nullopt;
    times.total_ticks += value;
    if (index != 3 && index != 4) times.busy_ticks += value;
  }
  return times;
}

std::optional<double> cpu_busy_percent(const CpuTimes& before, const CpuTimes& after) {
  if (after.total_ticks <= before.total_ticks || after.busy_ticks < before.busy_ticks) return std::nullopt;
  return 100.0 * static_cast<double>(after.busy_ticks - before.busy_ticks) /
         static_cast<double>(after.total_ticks - before.total_ticks);
}

std::optional<MemInfo> parse_meminfo(std::string_view text) {
  auto total = field_value(text, "MemTotal");
  auto available = field_value(text, "MemAvailable");
  if (!total) return std::nullopt;
  if (!available) available = field_value(text, "MemFree");  // kernels before 3.14
  return MemInfo{*total * 1024, available.value_or(0) * 1024};
}

Pressure parse_pressure(std::string_view text) {
  Pressure out;
  std::size_t pos = 0;
  while (pos < text.size()) {
    auto end = text.find('\n', pos);
    auto line = text.substr(pos, end == std::string_view::npos ? std::string_view::npos : end - pos);
    auto rest = line;
    auto kind = next_token(rest);
    auto avg10 = next_token(rest);
    if (avg10.starts_with("avg10=")) {
      avg10.remove_prefix(6);
      double value = 0;
      if (parse_number(avg10, value)) {
        if (kind == "some") out.some_avg10 = value;
        else if (kind == "full") out.full_avg10 = value;
      }
    }
    if (end == std::string_view::npos) break;
    pos = end + 1;
  }
  return out;
}

std::optional<ProcIo> parse_proc_io(std::string_view text) {
  auto read = field_value(text, "read_bytes");
  auto write = field_value(text, "write_bytes");
  if (!read || !write) return std::nullopt;
  return ProcIo{*read, *write};
}

std::optional<DiskUsage> disk_usage(const std::filesystem::path& path, std::error_code& error) {
  struct statvfs vfs {};
  if (::statvfs(path.c_str(), &vfs) != 0) {
    error.assign(errno, std::system_category());
    return std::nullopt;
  }
  error.clear();
  DiskUsage usage;
  usage.path = path.string();
  const std::uint64_t unit = vfs.f_frsize ? vfs.f_frsize : vfs.f_bsize;
  const std::uint64_t used_blocks = vfs.f_blocks - vfs.f_bfree;
  const std::uint64_t usable_blocks = used_blocks + vfs.f_bavail;
  usage.total_bytes = static_cast<std::uint64_t>(vfs.f_blocks) * unit;
  usage.available_bytes = static_cast<std::uint64_t>(vfs.f_bavail) * unit;
  usage.used_percent = usable_blocks ? 100.0 * static_cast<double>(used_blocks) / static_cast<double>(usable_blocks) : 0;
  return usage;
}

HostReader::HostReader(std::filesystem::path proc_root)
    : root_(std::move(proc_root)),
      stat_((root_ / "stat").string()),
      meminfo_((root_ / "meminfo").string()),
      cpu_pressure_((root_ / "pressure" / "cpu").string()),
      memory_pressure_((root_ / "pressure" / "memory").string()),
      io_pressure_((root_ / "pressure" / "io").string()) {}

std::optional<CpuTimes> HostReader::cpu() {
  // Only the first line is needed: 1 KiB holds it, whatever the number of CPUs and interrupts.
  char buffer[1024];
  auto text = stat_.read_start(buffer);
  return text ? parse_proc_stat(*text) : std::nullopt;
}

std::optional<MemInfo> HostReader::memory() {
  // MemTotal, MemFree and MemAvailable are the first three lines.
  char buffer[512];
  auto text = meminfo_.read_start(buffer);
  return text ? parse_meminfo(*text) : std::nullopt;
}

std::optional<Pressure> HostReader::pressure(std::string_view resource) {
  process::KeptOpenFile* file = resource == "cpu"      ? &cpu_pressure_
                       : resource == "memory" ? &memory_pressure_
                       : resource == "io"     ? &io_pressure_
                                              : nullptr;
  if (file == nullptr) return std::nullopt;
  char buffer[512];
  auto text = file->read_start(buffer);
  if (!text) return std::nullopt;
  return parse_pressure(*text);
}

std::optional<ProcIo> HostReader::process_io(pid_t pid) const {
  auto text = read_small_file((root_ / std::to_string(pid) / "io").string());
  return parse_proc_io(text);
}

std::optional<std::uint64_t> HostReader::open_fds(pid_t pid) const {
  const auto fd_dir = root_ / std::to_string(pid) / "fd";
  // Since Linux 6.2 the size of /proc/<pid>/fd is its number of open descriptors: one stat
  // instead of listing the directory. Older kernels (and fixtures) say 0: then list it.
  struct stat info {};
  if (::stat(fd_dir.c_str(), &info) != 0) return std::nullopt;
  if (info.st_size > 0) return static_cast<std::uint64_t>(info.st_size);
  DIR* dir = ::opendir(fd_dir.c_str());
  if (!dir) return std::nullopt;
  std::uint64_t count = 0;
  while (auto* entry = ::readdir(dir))
    if (entry->d_name[0] != '.') ++count;
  ::closedir(dir);
  return count;
}

std::string HostReader::process_name(pid_t pid) const {
  auto text = read_small_file((root_ / std::to_string(pid) / "comm").string());
  while (!text.empty() && text.back() == '\n') text.pop_back();
  return text;
}

std::string HostReader::command_line(pid_t pid) const {
  auto text = read_small_file((root_ / std::to_string(pid) / "cmdline").string());
  while (!text.empty() && text.back() == '\0') text.pop_back();
  for (char& c : text)
    if (c == '\0') c = ' ';
  return text;
}

double machine_cores() {
  cpu_set_t set;
  CPU_ZERO(&set);
  if (::sched_getaffinity(0, sizeof set, &set) == 0) {
    int count = CPU_COUNT(&set);
    if (count > 0) return count;
  }
  long online = ::sysconf(_SC_NPROCESSORS_ONLN);
  return online > 0 ? static_cast<double>(online) : 1.0;
}

}  // namespace guardian::monitor
