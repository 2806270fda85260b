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
// warning -> warning, info -> notice; titled "guardian: <type>: <title>". A test alert whose
// node id names a file ("tests/test_x.py::test_y") also gets file= (and line= when its text
// starts with "<path>:<line>:", pytest's short form), so GitHub shows it on that line of the
// diff; absolute paths under `workspace` ($GITHUB_WORKSPACE) are made relative to it.
std::string alert_annotation(const nlohmann::json& alert, std::string_view workspace = {});

}  // namespace guardian::adapters::ci
