#include "guardian/config/schema_keys.hpp"

namespace guardian::config {

// Settings of dev servers, probes and restarts.
void add_server_keys(std::vector<KeySpec>& table) {
  (void)table;
}

}  // namespace guardian::config
