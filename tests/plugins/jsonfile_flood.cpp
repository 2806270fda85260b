// jsonfile_flood DIR: loads the real jsonfile plugin through PluginRunner and publishes
// alerts as fast as it can, forever; the test SIGKILLs it mid-write.
#include <chrono>
#include <cstdio>
#include <string>
#include <thread>

#include <nlohmann/json.hpp>

#include "guardian/plugins/plugin_runner.hpp"

int main(int argc, char** argv) {
  if (argc != 3) {
    std::fprintf(stderr, "usage: jsonfile_flood PLUGIN_DIR ALERT_DIR\n");
    return 2;
  }
  guardian::plugins::PluginRunnerOptions options;
  options.search.config_paths = {argv[1]};
  options.search.use_env_path = options.search.use_build_dir = options.search.use_install_dir = false;
  options.queue_capacity = 64;
  guardian::plugins::PluginRunner host(options);
  const auto results = host.load({{"jsonfile", {{"directory", argv[2]}, {"max_files", 0}, {"max_age_s", 0}}}});
  for (const auto& r : results) {
    if (r.name == "jsonfile" && r.status != guardian::plugins::PluginLoadResult::Status::loaded) {
      std::fprintf(stderr, "%s\n", r.describe().c_str());
      return 1;
    }
  }
  const std::string payload(64 * 1024, 'x');  // big files: a kill is likely to land mid-write
  for (long i = 0;; ++i) {
    const long ms = std::chrono::duration_cast<std::chrono::milliseconds>(
                        std::chrono::system_clock::now().time_since_epoch())
                        .count();
    host.publish({{"kind", "alert"},
                  {"run_id", "flood"},
                  {"alert",
                   {{"id", i}, {"type", "FLOOD_" + std::to_string(i)}, {"ts_unix_ms", ms}, {"message", payload}}}});
    if (i == 0) std::printf("started\n"), std::fflush(stdout);
    std::this_thread::sleep_for(std::chrono::microseconds(200));
  }
}
