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
      out.open_fds += host_.open_fds(st.pid).value_or(0);
      if (auto io = host_.process_io(st.pid)) {
        out.io_read_bytes += io->read_bytes;
        out.io_write_bytes += io->write_bytes;
      }
    }
    out.processes.push_back(use);
  }
  last_cpu_usec_ = std::move(cpu_usec_by_process);
  last_walk_ = now;
  return out;
}

}  // namespace guardian::monitor
