#include "guardian/config/schema_keys.hpp"

namespace guardian::config {

void add_run_keys(std::vector<KeySpec>& table) {
  using K = ValueKind;
  table.insert(table.end(), {
      {"mode", K::choice, "dev", "GUARDIAN_MODE", "mode",
       "Resource profile: dev, test or prod (CPU/RAM ceilings and protector policy).",
       {"dev", "test", "prod"}},
      {"run.timeout", K::duration, "", "GUARDIAN_TIMEOUT", "timeout",
       "Stop the command after this long and exit 124 (unset or 0: no timeout).", {}},
      {"run.kill_after", K::duration, "10s", "GUARDIAN_KILL_AFTER", "kill-after",
       "Grace period between SIGTERM and SIGKILL when stopping the tree.", {}},
      {"run.runs_dir", K::path, ".guardian/runs", "GUARDIAN_RUNS_DIR", "runs-dir",
       "Where each run gets its directory (events.jsonl, report.json).", {}},
      {"run.report", K::path, "", "GUARDIAN_REPORT", "report",
       "Also write the run report (JSON) to this path.", {}},
      {"run.shared_files", K::boolean, "false", "GUARDIAN_SHARED_RUN_FILES", "",
       "Let other users read each run's directory and files (0755/0644 instead of 0700/0600). "
       "They hold the full command line, which may carry secrets (--password, tokens in URLs).", {}},
      {"output.quiet", K::boolean, "false", "GUARDIAN_QUIET", "quiet",
       "Keep stderr for errors only (no start line, status lines or summary).", {}},
  });
}

}  // namespace guardian::config
