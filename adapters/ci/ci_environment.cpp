#include "adapters/ci/ci_environment.hpp"

#include <algorithm>
#include <cctype>
#include <cstdlib>
#include <string_view>

#include "guardian/config/config.hpp"

namespace guardian::adapters::ci {
namespace {

// CI systems write "true" (GitHub, GitLab, most others), some "1" or "True".
bool truthy(const char* value) {
  if (!value) return false;
  std::string text(value);
  std::transform(text.begin(), text.end(), text.begin(), [](unsigned char c) { return std::tolower(c); });
  return text == "true" || text == "1" || text == "yes";
}

}  // namespace

CiEnvironment CiEnvironment::detect(const Getenv& getenv) {
  auto get = [&](const char* name) -> const char* { return getenv ? getenv(name) : std::getenv(name); };
  CiEnvironment ci;
  if (truthy(get("GITHUB_ACTIONS"))) {
    ci.provider = Provider::github;
    ci.variable = "GITHUB_ACTIONS";
    if (const char* summary = get("GITHUB_STEP_SUMMARY")) ci.step_summary = summary;
  } else if (truthy(get("GITLAB_CI"))) {
    ci.provider = Provider::gitlab;
    ci.variable = "GITLAB_CI";
  } else if (truthy(get("CI"))) {
    ci.provider = Provider::generic;
    ci.variable = "CI";
  }
  return ci;
}

CiEnvironment CiEnvironment::for_run(const config::Config& config, const Getenv& getenv) {
  if (config.boolean("adapters.ci.disabled")) return {};
  return detect(getenv);
}

void apply_ci_defaults(config::Config& config, const CiEnvironment& ci) {
  if (!ci.detected() || config.boolean("adapters.ci.disabled")) return;
  const config::Entry* mode = config.find("mode");
  if (mode && mode->origin.layer != config::Origin::Layer::default_value) return;  // the user chose
  config.set("mode", "test", config::Origin{config::Origin::Layer::environment, ci.origin()});
}

void apply_ci_defaults(config::Config& config) { apply_ci_defaults(config, CiEnvironment::detect()); }

}  // namespace guardian::adapters::ci
