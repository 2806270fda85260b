#include "guardian/report/run_directory.hpp"

#include <fmt/format.h>
#include <random>
#include <system_error>

#include "guardian/report/clock.hpp"
#include "guardian/report/runs_housekeeping.hpp"

namespace guardian::report {

RunDirectory RunDirectory::create(const std::filesystem::path& runs_dir, std::uint64_t keep) {
  namespace fs = std::filesystem;
  std::error_code error;
  create_runs_dir(runs_dir);
  std::random_device random;
  for (int attempt = 0; attempt < 16; ++attempt) {
    RunDirectory run;
    run.run_id = fmt::format("{}-{:06x}", compact_utc(std::chrono::system_clock::now()), random() & 0xffffff);
    run.path = fs::absolute(runs_dir / run.run_id);
    if (fs::create_directory(run.path, error)) {
      prune_runs(runs_dir, keep, run.path);
      return run;
    }
    if (error)
      throw std::system_error(error, fmt::format("creating the run directory '{}'", run.path.string()));
  }
  throw std::system_error(std::make_error_code(std::errc::file_exists),
                          fmt::format("choosing a fresh run directory in '{}'", runs_dir.string()));
}

}  // namespace guardian::report
