#include "guardian/config/schema_keys.hpp"

namespace guardian::config {

// Settings of the pytest, JUnit and CI adapters.
void add_adapter_keys(std::vector<KeySpec>& table) {
  using K = ValueKind;
  table.insert(table.end(), {
      {"tests.timeout", K::duration, "", "GUARDIAN_TEST_TIMEOUT", "test-timeout",
       "Stop the run when one pytest test runs longer than this (stack dump first, then the tree "
       "and its subprocesses; alert TEST_TIMEOUT). Unset or 0: no per-test timeout.", {}},
      {"adapters.pytest.disabled", K::boolean, "false", "GUARDIAN_NO_PYTEST_PLUGIN", "no-pytest-plugin",
       "Do not inject guardian's pytest plugin into the command (no PYTHONPATH/PYTEST_ADDOPTS changes, no "
       "test events; --test-timeout then has nothing to watch).", {}},
      {"adapters.junit.paths", K::string, "", "GUARDIAN_JUNIT", "junit",
       "JUnit XML files to read after the run (pytest --junitxml, ctest --output-junit, GoogleTest "
       "--gtest_output=xml:...): TEST_FAILED alerts and the report's tests section when pytest events did "
       "not fill it. Comma-separated or a TOML array; the flag is repeatable. A missing or malformed file "
       "is a warning, never a failure of the run.", {}},
      {"adapters.ci.disabled", K::boolean, "false", "GUARDIAN_NO_CI", "no-ci",
       "Ignore CI environment variables (CI, GITHUB_ACTIONS, GITLAB_CI): no test-mode default, no "
       "workflow annotations, job summary or log sections.", {}},
      {"adapters.ci.cancel_grace", K::duration, "5s", "GUARDIAN_CI_CANCEL_GRACE", "",
       "Under GitHub Actions: time between relaying the first SIGINT/SIGTERM to the tree and SIGKILL "
       "(capped at run.kill_after). GitHub sends SIGINT, SIGTERM 7.5 s later and kills everything at 10 s, "
       "so the tree must be down and the report written before that.", {}},
  });
}

}  // namespace guardian::config
