#pragma once
// Readers and parsers for the machine-wide figures in a snapshot: /proc/stat (host CPU),
// /proc/meminfo (memory available), /proc/pressure/* (PSI) and statvfs (disk usage), plus
// /proc/<pid>/io. Parsers take the file's text so tests run them on real fixtures; readers
// take the /proc root so tests can point them at a fixture tree.
#include <sys/types.h>

#include <cstdint>
#include <filesystem>
#include <optional>
#include <string>
#include <string_view>
#include <system_error>

#include "guardian/limits/limiter.hpp"
#include "guardian/process/kept_open_file.hpp"

namespace guardian::monitor {

using Pressure = limits::TreeUsage::Pressure;

/// The aggregate "cpu" line of /proc/stat, in clock ticks.
struct CpuTimes {
  std::uint64_t busy_ticks = 0;   // everything but idle and iowait
  std::uint64_t total_ticks = 0;
};
std::optional<CpuTimes> parse_proc_stat(std::string_view text);
/// Busy share of all CPUs between two readings, in % (0..100); empty if no time passed.
std::optional<double> cpu_busy_percent(const CpuTimes& before, const CpuTimes& after);

struct MemInfo {
  std::uint64_t total_bytes = 0;
  std::uint64_t available_bytes = 0;
};
std::optional<MemInfo> parse_meminfo(std::string_view text);

/// "some avg10=0.12 avg60=… total=…\nfull avg10=…" (the "full" line is absent for cpu on older kernels).
Pressure parse_pressure(std::string_view text);

/// The storage-IO lines of /proc/<pid>/io.
struct ProcIo {
  std::uint64_t read_bytes = 0;
  std::uint64_t write_bytes = 0;
};
std::optional<ProcIo> parse_proc_io(std::string_view text);

struct DiskUsage {
  std::string path;
  double used_percent = 0;  // as df's Use%: used / (used + available to unprivileged users)
  std::uint64_t total_bytes = 0;
  std::uint64_t available_bytes = 0;
};
/// statvfs(2) of the filesystem holding `path`.
std::optional<DiskUsage> disk_usage(const std::filesystem::path& path, std::error_code& error);

/// Reads small /proc files with plain syscalls (no iostreams: /proc files are generated
/// on read and a stream would cost more than the read itself). The machine-wide files,
/// read on every check, stay open between reads.
class HostReader {
 public:
  explicit HostReader(std::filesystem::path proc_root = "/proc");

  std::optional<CpuTimes> cpu();
  std::optional<MemInfo> memory();
  /// "cpu", "memory" or "io"; empty when the kernel has no PSI.
  std::optional<Pressure> pressure(std::string_view resource);
  std::optional<ProcIo> process_io(pid_t pid) const;
  /// Entries of /proc/<pid>/fd; empty when the process is gone or unreadable.
  std::optional<std::uint64_t> open_fds(pid_t pid) const;
  /// /proc/<pid>/comm without the newline.
  std::string process_name(pid_t pid) const;
  /// /proc/<pid>/cmdline with NULs turned into spaces.
  std::string command_line(pid_t pid) const;

  const std::filesystem::path& root() const { return root_; }

 private:
  std::filesystem::path root_;
  process::KeptOpenFile stat_;
  process::KeptOpenFile meminfo_;
  process::KeptOpenFile cpu_pressure_;
  process::KeptOpenFile memory_pressure_;
  process::KeptOpenFile io_pressure_;
};

/// CPUs this process may run on (sched_getaffinity), at least 1.
double machine_cores();

}  // namespace guardian::monitor
