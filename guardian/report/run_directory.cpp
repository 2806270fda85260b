#include "guardian/report/run_directory.hpp"

#include <sys/stat.h>

#include <cerrno>
#include <fmt/format.h>
#include <random>
#include <system_error>

#include "guardian/report/clock.hpp"
#include "guardian/report/runs_housekeeping.hpp"

namespace guardian::report {

RunDirectory RunDirectory::create(const std::filesystem::path& runs_dir, bool shared, std::uint64_t keep) {
  namespace fs = std::filesystem;
  create_runs_dir(runs_dir);
  std::random_device random;
  for (int attempt = 0; attempt < 16; ++attempt) {
    RunDirectory run;
    run.run_id = fmt::format("{}-{:06x}", compact_utc(std::chrono::system_clock::now()), random() & 0xffffff);
    run.path = fs::absolute(runs_dir / run.run_id);
    run.file_mode = shared ? kSharedFileMode : kPrivateFileMode;
    const mode_t dir_mode = shared ? kSharedDirMode : kPrivateDirMode;
    if (::mkdir(run.path.c_str(), dir_mode) == 0) {
      ::chmod(run.path.c_str(), dir_mode);  // exactly this mode, whatever the umask
      prune_runs(runs_dir, keep, run.path);
      return run;
    }
    if (errno != EEXIST)
      throw std::system_error(errno, std::system_category(),
                              fmt::format("creating the run directory '{}'", run.path.string()));
  }
  throw std::system_error(std::make_error_code(std::errc::file_exists),
                          fmt::format("choosing a fresh run directory in '{}'", runs_dir.string()));
}

}  // namespace guardian::report
