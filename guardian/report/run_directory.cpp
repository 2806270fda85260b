#include "guardian/report/run_directory.hpp"

#include <sys/stat.h>

#include <cerrno>
#include <fmt/format.h>
#include <random>
#include <system_error>

#include "guardian/report/clock.hpp"

namespace guardian::report {

RunDirectory RunDirectory::create(const std::filesystem::path& runs_dir, bool shared) {
  namespace fs = std::filesystem;
  std::error_code error;
  fs::create_directories(runs_dir, error);
  if (error)
    throw std::system_error(error, fmt::format("creating the runs directory '{}'", runs_dir.string()));
  std::random_device random;
  for (int attempt = 0; attempt < 16; ++attempt) {
    RunDirectory run;
    run.run_id = fmt::format("{}-{:06x}", compact_utc(std::chrono::system_clock::now()), random() & 0xffffff);
    run.path = fs::absolute(runs_dir / run.run_id);
    run.file_mode = shared ? kSharedFileMode : kPrivateFileMode;
    const mode_t dir_mode = shared ? kSharedDirMode : kPrivateDirMode;
    if (::mkdir(run.path.c_str(), dir_mode) == 0) {
      ::chmod(run.path.c_str(), dir_mode);  // exactly this mode, whatever the umask
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
