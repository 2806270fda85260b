#include "guardian/monitor/process_walk.hpp"

#include <unistd.h>

namespace guardian::monitor {

ProcessWalker::ProcessWalker(process::TreeMembership members, std::filesystem::path proc_root, IsRoot is_root)
    : members_(std::move(members)), host_(std::move(proc_root)), is_root_(std::move(is_root)) {}

TreeWalk ProcessWalker::walk(SteadyTime now, double cpu_ceiling_cores, std::uint64_t memory_ceiling_bytes,
                             bool files_and_io) {
  static const double page_bytes = static_cast<double>(::sysconf(_SC_PAGESIZE));
  TreeWalk out;
  out.files_and_io = files_and_io;
  std::optional<double> elapsed_seconds;
  if (last_walk_ && now > *last_walk_)
    elapsed_seconds = std::chrono::duration<double>(now - *last_walk_).count();

  std::map<std::pair<pid_t, std::uint64_t>, std::uint64_t> cpu_usec_by_process;
  std::map<std::pair<pid_t, std::uint64_t>, FilesAndIo> files_by_process;
  for (const auto& st : members_.live_member_stats()) {
    ProcessUse use;
    use.pid = st.pid;
    use.start_ticks = st.start_ticks;
    use.is_root = is_root_ ? is_root_(st.pid) : st.pid == members_.root();
    const std::uint64_t usec = process::cpu_usec(st);
    const auto key = std::make_pair(st.pid, st.start_ticks);
    cpu_usec_by_process[key] = usec;
    if (auto last = last_cpu_usec_.find(key); last != last_cpu_usec_.end() && elapsed_seconds && usec >= last->second) {
      double cores = static_cast<double>(usec - last->second) / 1e6 / *elapsed_seconds;
      if (cpu_ceiling_cores > 0) use.cpu_percent_of_ceiling = 100.0 * cores / cpu_ceiling_cores;
    }
    if (memory_ceiling_bytes > 0)
      use.memory_percent_of_ceiling =
          100.0 * static_cast<double>(st.rss_pages) * page_bytes / static_cast<double>(memory_ceiling_bytes);
    if (files_and_io) {
      const FilesAndIo files = files_of(st, key);
      out.open_fds += files.open_fds;
      if (files.io) {
        out.io_read_bytes += files.io->read_bytes;
        out.io_write_bytes += files.io->write_bytes;
      }
      if (st.run_time_ns) files_by_process.emplace(key, files);
    }
    out.processes.push_back(use);
  }
  last_cpu_usec_ = std::move(cpu_usec_by_process);
  if (files_and_io) last_files_ = std::move(files_by_process);
  last_walk_ = now;
  return out;
}

ProcessWalker::FilesAndIo ProcessWalker::files_of(const process::ProcStat& st,
                                                  const std::pair<pid_t, std::uint64_t>& key) {
  if (auto last = last_files_.find(key); last != last_files_.end() && st.threads == 1 && st.run_time_ns &&
                                          *st.run_time_ns == last->second.run_time_ns &&
                                          last->second.reuses < kMaxFilesReuses) {
    ++reused_files_;
    FilesAndIo same = last->second;
    ++same.reuses;
    return same;
  }
  // The run time was read before these: if the process runs in between, the next walk
  // sees its run time move and reads them again.
  FilesAndIo files;
  files.run_time_ns = st.run_time_ns.value_or(0);
  files.open_fds = host_.open_fds(st.pid).value_or(0);
  files.io = host_.process_io(st.pid);
  return files;
}

}  // namespace guardian::monitor
