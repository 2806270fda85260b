#include "guardian/config/schema_keys.hpp"

namespace guardian::config {

void add_plugin_keys(std::vector<KeySpec>& table) {
  using K = ValueKind;
  table.insert(table.end(), {
      {"plugins.*", K::plugin_table, "", "", "",
       "A plugin's own settings table ([plugins.<name>], enabled = true/false).", {}},
  });
}

}  // namespace guardian::config
