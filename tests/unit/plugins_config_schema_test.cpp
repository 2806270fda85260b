// A plugin's declared config schema: parsing, and validating a user's table against it.
#include <gtest/gtest.h>

#include "guardian/plugins/config_schema.hpp"

namespace {

using namespace guardian::plugins;

constexpr const char* schema_json = R"json([
  {"key": "port", "type": "int", "default": 8765, "description": "TCP port"},
  {"key": "ratio", "type": "number", "default": 0.5, "description": "a ratio"},
  {"key": "on", "type": "bool", "default": true, "description": "switch"},
  {"key": "origins", "type": "string_list", "default": [], "description": "list"},
  {"key": "token", "type": "string", "description": "no default"},
  {"key": "file", "type": "string", "required": true, "description": "where to write"}
])json";

ConfigSchema parsed() {
  ConfigSchema schema;
  std::string error;
  EXPECT_TRUE(parse_config_schema(schema_json, schema, error)) << error;
  return schema;
}

TEST(ConfigSchema, ParsesKeysTypesDefaultsAndDescriptions) {
  const auto schema = parsed();
  ASSERT_EQ(schema.keys.size(), 6u);
  EXPECT_EQ(schema.keys[0].key, "port");
  EXPECT_EQ(schema.keys[0].type, ConfigValueType::integer);
  EXPECT_EQ(schema.keys[0].default_value, 8765);
  EXPECT_EQ(schema.keys[3].type, ConfigValueType::string_list);
  EXPECT_TRUE(schema.keys[4].default_value.is_null());
  EXPECT_TRUE(schema.keys[5].required);
  EXPECT_EQ(schema.to_json()[1]["type"], "number");
}

TEST(ConfigSchema, RejectsBrokenSchemas) {
  ConfigSchema schema;
  std::string error;
  EXPECT_FALSE(parse_config_schema("[{", schema, error));
  EXPECT_EQ(error, "its config schema is not valid JSON");
  EXPECT_FALSE(parse_config_schema(R"({"key":"x"})", schema, error));
  EXPECT_FALSE(parse_config_schema(R"([{"key":"x","type":"float"}])", schema, error));
  EXPECT_NE(error.find("unknown type 'float'"), std::string::npos) << error;
  EXPECT_FALSE(parse_config_schema(R"([{"key":"x","type":"int","default":"8"}])", schema, error));
  EXPECT_NE(error.find("default (\"8\") that is not a int"), std::string::npos) << error;
  EXPECT_TRUE(parse_config_schema("", schema, error)) << "no schema = no settings";
  EXPECT_TRUE(schema.keys.empty());
}

TEST(ConfigSchema, FillsDefaultsAndKeepsUserValues) {
  nlohmann::json complete;
  std::string error;
  ASSERT_TRUE(validate_config(parsed(), {{"file", "/tmp/x"}, {"port", 9000}, {"ratio", 2}}, complete, error))
      << error;
  EXPECT_EQ(complete, (nlohmann::json{{"file", "/tmp/x"}, {"port", 9000}, {"ratio", 2}, {"on", true},
                                      {"origins", nlohmann::json::array()}}));
}

TEST(ConfigSchema, ErrorsNameTheKeyAndWhatIsExpected) {
  const auto schema = parsed();
  nlohmann::json complete;
  std::string error;
  EXPECT_FALSE(validate_config(schema, {{"file", "f"}, {"prot", 1}}, complete, error));
  EXPECT_EQ(error, "unknown key 'prot' — did you mean 'port'? (known keys: port, ratio, on, origins, token, file)");
  EXPECT_FALSE(validate_config(schema, {{"file", "f"}, {"port", "80"}}, complete, error));
  EXPECT_EQ(error, "key 'port' must be a int, got \"80\"");
  EXPECT_FALSE(validate_config(schema, {{"file", "f"}, {"port", 1.5}}, complete, error));
  EXPECT_FALSE(validate_config(schema, {{"file", "f"}, {"origins", {"a", 1}}}, complete, error));
  EXPECT_EQ(error, "key 'origins' must be a string_list, got [\"a\",1]");
  EXPECT_FALSE(validate_config(schema, nlohmann::json::object(), complete, error));
  EXPECT_EQ(error, "required key 'file' is missing (string: where to write)");
  EXPECT_FALSE(validate_config(schema, "text", complete, error));
}

TEST(ConfigSchema, SafeDumpSurvivesInvalidUtf8) {
  EXPECT_EQ(safe_dump(nlohmann::json("a\xff" "b")), "\"a\xEF\xBF\xBD" "b\"");
}

}  // namespace

#include "guardian/plugins/plugin_runner.hpp"

namespace {

TEST(EventEnvelope, KindTimestampRunIdAndPayload) {
  const auto event = guardian::plugins::make_event(
      "level_changed", "run-7", {{"from", "NORMAL"}, {"to", "CRITICAL"}},
      std::chrono::system_clock::time_point(std::chrono::milliseconds(1'700'000'000'250)));
  EXPECT_EQ(event, (nlohmann::json{{"kind", "level_changed"},
                                   {"ts", "2023-11-14T22:13:20.250Z"},
                                   {"run_id", "run-7"},
                                   {"from", "NORMAL"},
                                   {"to", "CRITICAL"}}));
}

}  // namespace

TEST(ConfigSchema, NonBooleanRequiredIsAnErrorNotAnException) {
  // Found by fuzz_plugin_config: value("required", false) threw json::type_error out of the parser.
  ConfigSchema schema;
  std::string error;
  EXPECT_FALSE(parse_config_schema(R"([{"key":"a","type":"int","required":1}])", schema, error));
  EXPECT_NE(error.find("\"required\" that is not true or false"), std::string::npos) << error;
}
