#include "guardian/config/schema_keys.hpp"

namespace guardian::config {

// Settings of the pytest, JUnit and CI adapters.
void add_adapter_keys(std::vector<KeySpec>& table) {
  (void)table;
}

}  // namespace guardian::config
