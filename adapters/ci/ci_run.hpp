#pragma once
// CiRun: what guardian does differently for one run under CI — GitHub Actions annotations for
// alerts and the job summary, a shorter stop grace that fits GitHub's cancellation window,
// GitLab's collapsible section around the run — and the report's "ci" section.
#include <chrono>

#include <nlohmann/json.hpp>

#include "adapters/ci/ci_environment.hpp"

namespace guardian::context {
struct RunContext;
}

namespace guardian::adapters::ci {

class CiRun {
 public:
  explicit CiRun(context::RunContext& context, CiEnvironment ci);
  explicit CiRun(context::RunContext& context);  // detects from this process's environment

  const CiEnvironment& environment() const { return ci_; }
  // Announces the run (GitLab section start).
  void start();
  // The grace between relaying a stop signal and SIGKILL: under GitHub Actions at most
  // adapters.ci.cancel_grace, so the tree is down and the report written before GitHub's kill.
  std::chrono::milliseconds stop_grace(std::chrono::milliseconds kill_after) const;
  // After the report is complete (ended_at set): GitHub annotations for the run's alerts and
  // the job summary, GitLab section end, the report's "ci" section.
  void finish();

 private:
  context::RunContext& context_;
  CiEnvironment ci_;
  std::chrono::milliseconds cancel_grace_;
  bool started_ = false;
  bool finished_ = false;
};

// One line to guardian's stdout in a single write (the runner reads commands per line).
void write_stdout_line(const std::string& line);

}  // namespace guardian::adapters::ci
