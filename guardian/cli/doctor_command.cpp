// `guardian doctor [--json] [run options]`: how resource ceilings would be enforced on this
// machine — cgroup layout, backend and why, controllers, enclosing limits — and exactly
// what to do for full enforcement. Read-only: it creates and changes nothing.
#include <fmt/format.h>

#include <memory>

#include "guardian/cli/subcommand.hpp"
#include "guardian/limits/diagnosis.hpp"

namespace guardian::cli {

Subcommand add_doctor_command(CLI::App& app, GlobalOptions& global) {
  auto* doctor = app.add_subcommand(
      "doctor", "Show how resource ceilings are enforced here (cgroup v2 or the watchdog) and how to fix it");
  auto as_json = std::make_shared<bool>(false);
  doctor->add_flag("--json", *as_json, "Print JSON");
  doctor->add_option("--config", global.config_path, "Read settings from this TOML file")->option_text("PATH");
  auto flags = std::make_shared<SchemaFlags>();
  flags->add_to(*doctor);  // --mode, --memory … show the ceilings a run with them would get
  return {doctor, [as_json, flags, &global] {
            auto config = load_config(global, *flags);
            auto diagnosis = limits::diagnose(config, limits::probe_cgroups(), limits::this_machine());
            if (*as_json) fmt::print("{}\n", diagnosis.to_json().dump(2));
            else fmt::print("{}", diagnosis.to_text());
            return 0;
          }};
}

}  // namespace guardian::cli
