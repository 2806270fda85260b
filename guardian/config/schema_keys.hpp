#pragma once
// The settings of each component, one function (and one file) per component, so a
// component's keys live together and stay easy to review.
#include <vector>

#include "guardian/config/schema.hpp"

namespace guardian::config {

void add_run_keys(std::vector<KeySpec>& table);      // keys_run.cpp: mode, timeout, output
void add_limits_keys(std::vector<KeySpec>& table);   // keys_limits.cpp: ceilings per mode
void add_monitor_keys(std::vector<KeySpec>& table);  // keys_monitor.cpp: levels, thresholds, protector
void add_server_keys(std::vector<KeySpec>& table);   // keys_servers.cpp: dev servers and probes
void add_plugin_keys(std::vector<KeySpec>& table);   // keys_plugins.cpp: [plugins.<name>]
void add_adapter_keys(std::vector<KeySpec>& table);  // keys_adapters.cpp: pytest, JUnit, CI

}  // namespace guardian::config
