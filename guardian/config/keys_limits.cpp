#include "guardian/config/schema_keys.hpp"

namespace guardian::config {

// Settings of resource ceilings (modes, --cpu, --memory, --pids).
void add_limits_keys(std::vector<KeySpec>& table) {
  (void)table;
}

}  // namespace guardian::config
