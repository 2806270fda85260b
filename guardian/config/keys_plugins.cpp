#include "guardian/config/schema_keys.hpp"

namespace guardian::config {

void add_plugin_keys(std::vector<KeySpec>& table) {
  using K = ValueKind;
  table.insert(table.end(), {
      // Before "plugins.*": find_spec() takes the first match, so this name is guardian's own
      // setting and no plugin can be called "user".
      {"plugins.user", K::string, "", "GUARDIAN_PLUGINS_USER", "plugins-user",
       "When guardian runs as root: the user the plugin host process runs as (a name or a numeric uid; "
       "it gets that user's primary group only). Takes precedence over SUDO_UID/SUDO_GID. Ignored "
       "when guardian is not root; a user unknown to the system is a configuration error.", {}},
      {"plugins.*", K::plugin_table, "", "", "",
       "A plugin's own settings table ([plugins.<name>], enabled = true/false).", {}},
  });
}

}  // namespace guardian::config
