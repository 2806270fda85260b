#include "guardian/context/run_options.hpp"

#include "guardian/report/run_report.hpp"

namespace guardian::context {

RunOptions RunOptions::from_config(const config::Config& config, std::vector<std::string> command) {
  RunOptions options;
  options.command = std::move(command);
  options.mode = config.text("mode");
  options.timeout = config.duration("run.timeout");
  if (options.timeout && options.timeout->count() == 0) options.timeout.reset();  // 0 = no timeout
  options.kill_after = config.duration("run.kill_after").value_or(options.kill_after);
  options.runs_dir = config.text("run.runs_dir");
  if (auto report = config.text("run.report"); !report.empty()) {
    // Checked now: a bad path found when the run ends would lose the report.
    if (auto problem = report::report_path_problem(report)) throw config::ConfigError(*problem);
    options.report_copy = report;
  }
  options.shared_run_files = config.boolean("run.shared_files");
  options.quiet = config.boolean("output.quiet");
  return options;
}

}  // namespace guardian::context
