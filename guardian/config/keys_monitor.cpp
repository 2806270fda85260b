#include "guardian/config/schema_keys.hpp"

namespace guardian::config {

// Settings of the progressive monitor, thresholds and the protector.
void add_monitor_keys(std::vector<KeySpec>& table) {
  (void)table;
}

}  // namespace guardian::config
