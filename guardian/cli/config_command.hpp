#pragma once
// `guardian config show|keys`: the effective configuration and where each value came
// from; the list of every setting with its flag, variable and default.
#include "guardian/config/config.hpp"

namespace guardian::cli {

int show_config(const config::Config& config, bool as_json);
int list_config_keys(bool as_json);

}  // namespace guardian::cli
