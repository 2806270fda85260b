#include "guardian/config/schema_keys.hpp"

namespace guardian::config {

// Settings of the pytest, JUnit and CI adapters.
void add_adapter_keys(std::vector<KeySpec>& table) {
  using K = ValueKind;
  table.insert(table.end(), {
      {"tests.timeout", K::duration, "", "GUARDIAN_TEST_TIMEOUT", "test-timeout",
       "Stop the run when one pytest test runs longer than this (stack dump first, then the tree "
       "and its subprocesses; alert TEST_TIMEOUT). Unset or 0: no per-test timeout.", {}},
  });
}

}  // namespace guardian::config
