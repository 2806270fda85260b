#include "adapters/ci/ci_run.hpp"

#include <unistd.h>

#include <cerrno>
#include <cstdlib>

#include <fmt/format.h>
#include <fmt/ranges.h>

#include "adapters/ci/github_commands.hpp"
#include "adapters/ci/gitlab_sections.hpp"
#include "adapters/ci/step_summary.hpp"
#include "adapters/junit/junit_adapter.hpp"
#include "guardian/config/quantity.hpp"
#include "guardian/context/run_context.hpp"

namespace guardian::adapters::ci {
namespace {

constexpr const char* kSectionName = "guardian_run";

std::int64_t unix_now() {
  return std::chrono::duration_cast<std::chrono::seconds>(std::chrono::system_clock::now().time_since_epoch()).count();
}

const char* provider_name(CiEnvironment::Provider provider) {
  switch (provider) {
    case CiEnvironment::Provider::github: return "github";
    case CiEnvironment::Provider::gitlab: return "gitlab";
    case CiEnvironment::Provider::generic: return "generic";
    case CiEnvironment::Provider::none: return "none";
  }
  return "none";
}

}  // namespace

void write_stdout_line(const std::string& line) {
  std::string text = line + "\n";
  std::string_view rest = text;
  while (!rest.empty()) {
    ssize_t n = ::write(STDOUT_FILENO, rest.data(), rest.size());
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) return;  // stdout closed: nothing to tell the runner
    rest.remove_prefix(static_cast<std::size_t>(n));
  }
}

CiRun::CiRun(context::RunContext& context, CiEnvironment ci)
    : context_(context),
      ci_(std::move(ci)),
      cancel_grace_(context.config.duration("adapters.ci.cancel_grace").value_or(std::chrono::milliseconds(5000))) {}

CiRun::CiRun(context::RunContext& context) : CiRun(context, CiEnvironment::for_run(context.config)) {}

void CiRun::start() {
  if (started_ || !ci_.detected()) return;
  started_ = true;
  context_.log.info("ci", "ci.detected", fmt::format("running under CI (detected by {})", ci_.variable),
                    {{"provider", provider_name(ci_.provider)}, {"variable", ci_.variable}});
  if (ci_.provider == CiEnvironment::Provider::gitlab) {
    write_stdout_line(gitlab_section_start(kSectionName,
                                           fmt::format("guardian run: {}", fmt::join(context_.options.command, " ")),
                                           unix_now()));
  }
}

std::chrono::milliseconds CiRun::stop_grace(std::chrono::milliseconds kill_after) const {
  if (ci_.provider != CiEnvironment::Provider::github || cancel_grace_.count() <= 0) return kill_after;
  return std::min(kill_after, cancel_grace_);
}

void CiRun::finish() {
  if (finished_ || !ci_.detected()) return;
  finished_ = true;
  nlohmann::json section{{"provider", provider_name(ci_.provider)}, {"detected_by", ci_.variable}};
  if (ci_.provider == CiEnvironment::Provider::github) {
    // Annotations only now, not as alerts happen: the command shares stdout and a line it left
    // unfinished ("..F" of pytest's progress) would hide a command from the runner, which
    // reads one per line. The leading line break ends any such line (the runner trims it).
    std::string annotations;
    const char* workspace = std::getenv("GITHUB_WORKSPACE");
    for (const auto& alert : context_.alerts.history())
      annotations += "\n" + alert_annotation(alert, workspace ? workspace : "");
    // A --junit file that could not be read is no alert, but a CI user must see it.
    if (auto junit = context_.report.sections.find("junit"); junit != context_.report.sections.end())
      for (const auto& warning : junit->value("warnings", nlohmann::json::array()))
        annotations += "\n" + workflow_command("warning", {{"title", "guardian: JUnit"}}, warning.get<std::string>());
    if (!annotations.empty()) write_stdout_line(annotations);
    section["annotations"] = context_.alerts.history().size();
    section["cancel_grace_ms"] = stop_grace(context_.options.kill_after).count();
    if (ci_.step_summary.empty()) {
      section["step_summary"] = nullptr;
    } else {
      auto markdown = job_summary_markdown(context_.report.to_json(), context_.alerts.history());
      if (auto error = append_step_summary(ci_.step_summary, markdown)) {
        std::string message = fmt::format("cannot append the job summary to {} (GITHUB_STEP_SUMMARY): {}; the "
                                          "report is in {}", ci_.step_summary, error.message(),
                                          context_.run_dir.string());
        context_.console.error(message);
        context_.log.warning("ci", "summary.failed", message);
        section["step_summary_error"] = error.message();
      }
      section["step_summary"] = ci_.step_summary;
    }
  }
  if (ci_.provider == CiEnvironment::Provider::gitlab) {
    write_stdout_line("\n" + gitlab_section_end(kSectionName, unix_now()));  // on a line of its own
    auto paths = junit::configured_paths(context_.config, context_.options.working_dir);
    if (!paths.empty()) {
      std::vector<std::string> names;
      for (const auto& path : paths) names.push_back(path.string());
      section["junit_reports"] = names;
      context_.console.info(fmt::format("JUnit report{}: {} — list {} under artifacts:reports:junit in "
                                        ".gitlab-ci.yml for the merge request's test view",
                                        names.size() > 1 ? "s" : "", fmt::join(names, ", "),
                                        names.size() > 1 ? "them" : "it"));
    }
  }
  context_.report.sections["ci"] = std::move(section);
}

}  // namespace guardian::adapters::ci
