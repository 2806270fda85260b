#pragma once
// GitHub Actions workflow commands (::error title=…::message) with GitHub's escaping rules,
// and the mapping from a guardian alert to the annotation that shows it on the run's page.
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include <nlohmann/json.hpp>

namespace guardian::adapters::ci {

// Message text: % \r \n become %25 %0D %0A (the runner reads one command per line).
std::string escape_data(std::string_view text);
// Property values: as escape_data, plus : and , (they separate the properties).
std::string escape_property(std::string_view text);

// "::command key=value,key=value::message" (no properties: "::command::message").
std::string workflow_command(std::string_view command,
                             const std::vector<std::pair<std::string, std::string>>& properties,
                             std::string_view message);

// The annotation line for one alert (its JSON form, alerts::to_json): critical -> error,
// warning -> warning, info -> notice; titled "guardian: <type>: <title>".
std::string alert_annotation(const nlohmann::json& alert);

}  // namespace guardian::adapters::ci
