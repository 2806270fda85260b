#pragma once
// JunitAdapter: after the run, reads the JUnit XML files named by --junit / adapters.junit.paths,
// raises TEST_FAILED alerts (the same no-storm rule as the pytest adapter) and fills the report's
// "tests" section when pytest events did not; problems with a file are warnings, never failures.
#include <filesystem>
#include <vector>

#include "adapters/junit/junit_parser.hpp"

namespace guardian::config {
class Config;
}
namespace guardian::context {
struct RunContext;
}

namespace guardian::adapters::junit {

// adapters.junit.paths split on commas, relative ones resolved against `working_dir`.
std::vector<std::filesystem::path> configured_paths(const config::Config& config,
                                                    const std::filesystem::path& working_dir);

class JunitAdapter {
 public:
  explicit JunitAdapter(context::RunContext& context);
  const std::vector<std::filesystem::path>& paths() const { return paths_; }

  // Reads every file. `tests_section_taken`: pytest events already filled the report's "tests"
  // section and raised their alerts; the files are then only checked and listed.
  void finish(bool tests_section_taken);

 private:
  context::RunContext& context_;
  std::vector<std::filesystem::path> paths_;
  bool finished_ = false;
};

}  // namespace guardian::adapters::junit
