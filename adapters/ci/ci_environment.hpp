#pragma once
// CiEnvironment: which CI system (if any) guardian runs under, read from the variables the
// systems set (GITHUB_ACTIONS, GITLAB_CI, CI); and the one default it changes: mode test.
#include <functional>
#include <string>

namespace guardian::config {
class Config;
}

namespace guardian::adapters::ci {

struct CiEnvironment {
  enum class Provider { none, github, gitlab, generic };
  Provider provider = Provider::none;
  std::string variable;      // what told us: "GITHUB_ACTIONS", "GITLAB_CI", "CI"
  std::string step_summary;  // $GITHUB_STEP_SUMMARY (GitHub only; may be empty)

  bool detected() const { return provider != Provider::none; }
  // "CI detected: GITHUB_ACTIONS": the origin `guardian config show` prints for the mode.
  std::string origin() const { return "CI detected: " + variable; }

  using Getenv = std::function<const char*(const char*)>;
  // From an environment (the process's own by default).
  static CiEnvironment detect(const Getenv& getenv = nullptr);
  // As detect(), but none when adapters.ci.disabled (--no-ci) is set.
  static CiEnvironment for_run(const config::Config& config, const Getenv& getenv = nullptr);
};

// Under CI, mode defaults to test: only when no file, variable or flag chose a mode.
void apply_ci_defaults(config::Config& config, const CiEnvironment& ci);
// The same, detecting CI from this process's environment (called once by the CLI after loading).
void apply_ci_defaults(config::Config& config);

}  // namespace guardian::adapters::ci
