// The plugin host against misbehaving plugins: refused ones are explained, and the
// ones that throw, block or return garbage never stop the host or the other plugins.
#include <gtest/gtest.h>

#include <algorithm>
#include <filesystem>
#include <nlohmann/json.hpp>

#include "guardian/plugins/plugin_runner.hpp"
#include "support/captured_log.hpp"
#include "support/subprocess.hpp"

namespace {

using guardian::plugins::PluginRunner;
using guardian::plugins::PluginLoadResult;
using guardian::testing::CapturedLog;
using namespace std::chrono_literals;

const std::filesystem::path abi_dir = TEST_ABI_PLUGIN_DIR;

const PluginLoadResult* find(const std::vector<PluginLoadResult>& results, const std::string& name) {
  for (const auto& r : results) {
    if (r.name == name) return &r;
  }
  return nullptr;
}

nlohmann::json event(int seq) { return {{"kind", "alert"}, {"ts", "2024-01-01T00:00:00.000Z"}, {"seq", seq}}; }

class AbiTest : public ::testing::Test {
 protected:
  void SetUp() override { dir_ = guardian::testing::make_temp_dir("guardian-abi-"); }
  void TearDown() override { std::filesystem::remove_all(dir_); }
  std::filesystem::path dir_;
  CapturedLog log_;
};

TEST_F(AbiTest, RefusedPluginsAreExplainedWithBothAbis) {
  PluginRunner host(guardian::testing::isolated_options({abi_dir}, log_));
  const auto results = host.load({{"recorder", {{"file", (dir_ / "events.jsonl").string()}}}});

  const auto* wrong = find(results, "wrong_major");
  ASSERT_NE(wrong, nullptr);
  EXPECT_EQ(wrong->status, PluginLoadResult::Status::refused);
  EXPECT_NE(wrong->message.find("ABI 2"), std::string::npos) << wrong->message;
  EXPECT_NE(wrong->message.find("ABI 1"), std::string::npos) << wrong->message;

  const auto* short_struct = find(results, "short_struct");
  ASSERT_NE(short_struct, nullptr);
  EXPECT_EQ(short_struct->status, PluginLoadResult::Status::refused);
  EXPECT_NE(short_struct->message.find("24 bytes"), std::string::npos) << short_struct->message;
  EXPECT_NE(short_struct->describe().find("short_struct"), std::string::npos);

  const auto* bad_schema = find(results, "bad_schema");
  ASSERT_NE(bad_schema, nullptr);
  EXPECT_EQ(bad_schema->status, PluginLoadResult::Status::refused);
  EXPECT_NE(bad_schema->message.find("schema"), std::string::npos) << bad_schema->message;

  const auto* no_entry = find(results, "no_entry");
  ASSERT_NE(no_entry, nullptr);
  EXPECT_EQ(no_entry->status, PluginLoadResult::Status::refused);
  EXPECT_NE(no_entry->message.find("guardian_plugin_entry"), std::string::npos) << no_entry->message;

  const auto* recorder = find(results, "recorder");
  ASSERT_NE(recorder, nullptr);
  EXPECT_EQ(recorder->status, PluginLoadResult::Status::loaded) << recorder->describe();

  // Plugins without a config table are not loaded unless enabled by default.
  const auto* throws = find(results, "throws");
  ASSERT_NE(throws, nullptr);
  EXPECT_EQ(throws->status, PluginLoadResult::Status::disabled);
}

TEST_F(AbiTest, ARunOpensOnlyThePluginsItWillLoad) {
  // What a run uses: broken or unconfigured plugins beside the wanted ones are not opened
  // at all (opening one loads its libraries), so they are neither refused nor listed.
  auto options = guardian::testing::isolated_options({abi_dir}, log_);
  options.open_only_wanted = true;
  options.enabled_by_default = {"throws"};
  PluginRunner host(std::move(options));
  const auto results =
      host.load({{"recorder", {{"file", (dir_ / "events.jsonl").string()}}}, {"blocks", {{"enabled", false}}}});
  std::vector<std::string> names;
  for (const auto& r : results) names.push_back(r.name);
  std::sort(names.begin(), names.end());
  EXPECT_EQ(names, (std::vector<std::string>{"recorder", "throws"}));
  ASSERT_NE(find(results, "recorder"), nullptr);
  EXPECT_EQ(find(results, "recorder")->status, PluginLoadResult::Status::loaded) << find(results, "recorder")->describe();
}

TEST_F(AbiTest, ConfigIsValidatedAgainstTheDeclaredSchema) {
  PluginRunner host(guardian::testing::isolated_options({abi_dir}, log_));
  const auto results = host.load({{"recorder", {{"file", 42}}}, {"blocks", {{"nonsense", true}}},
                                  {"garbage", {{"enabled", false}}}, {"missing_plugin", nlohmann::json::object()}});
  const auto* recorder = find(results, "recorder");
  ASSERT_NE(recorder, nullptr);
  EXPECT_EQ(recorder->status, PluginLoadResult::Status::failed);
  EXPECT_NE(recorder->message.find("'file' must be a string"), std::string::npos) << recorder->message;
  const auto* blocks = find(results, "blocks");
  ASSERT_NE(blocks, nullptr);
  EXPECT_EQ(blocks->status, PluginLoadResult::Status::failed);
  EXPECT_NE(blocks->message.find("unknown key 'nonsense'"), std::string::npos) << blocks->message;
  EXPECT_NE(blocks->message.find("block_in"), std::string::npos) << "names the known keys: " << blocks->message;
  EXPECT_EQ(find(results, "garbage")->status, PluginLoadResult::Status::disabled);
  const auto* missing = find(results, "missing_plugin");
  ASSERT_NE(missing, nullptr);
  EXPECT_EQ(missing->status, PluginLoadResult::Status::failed);
  EXPECT_NE(missing->message.find("GUARDIAN_PLUGIN_PATH"), std::string::npos) << missing->message;
  EXPECT_TRUE(host.loaded_plugins().empty());
}

TEST_F(AbiTest, ThrowingBlockingAndGarbagePluginsDoNotStopTheOthers) {
  auto options = guardian::testing::isolated_options({abi_dir}, log_);
  options.queue_capacity = 64;
  options.stuck_after = 200ms;
  PluginRunner host(options);
  const auto events_file = dir_ / "events.jsonl";
  const auto results = host.load({{"recorder", {{"file", events_file.string()}}},
                                  {"throws", nlohmann::json::object()},
                                  {"blocks", nlohmann::json::object()},
                                  {"garbage", nlohmann::json::object()}});
  for (const char* name : {"recorder", "throws", "blocks", "garbage"}) {
    ASSERT_EQ(find(results, name)->status, PluginLoadResult::Status::loaded) << find(results, name)->describe();
  }

  // publish() must return although "blocks" never returns from its first on_event: if it
  // blocked, this loop would hang and the test time out.
  // Batches of 32 (half a queue), each drained by the well-behaved plugins before the
  // next, so only "blocks" drops events, however slow the machine is.
  constexpr int events = 2000;
  auto others_drained = [&] {
    const auto stats = host.stats();
    return stats["recorder"]["queued"] == 0 && stats["throws"]["queued"] == 0 && stats["garbage"]["queued"] == 0;
  };
  for (int i = 0; i < events; ++i) {
    host.publish(event(i));
    if (i % 32 == 31) {
      ASSERT_TRUE(guardian::testing::wait_until(others_drained, 20s)) << host.stats().dump();
    }
  }

  ASSERT_TRUE(guardian::testing::wait_until(
      [&] { return guardian::testing::read_lines(events_file).size() >= static_cast<std::size_t>(events) ||
                   host.stats()["recorder"]["dropped"].get<int>() > 0; },
      20s));
  const auto stats = host.stats();
  EXPECT_EQ(stats["recorder"]["dropped"].get<int>(), 0) << stats.dump();
  const auto lines = guardian::testing::read_lines(events_file);
  ASSERT_EQ(lines.size(), static_cast<std::size_t>(events));
  for (int i = 0; i < events; ++i) EXPECT_EQ(nlohmann::json::parse(lines[i])["seq"], i);

  ASSERT_TRUE(guardian::testing::wait_until([&] { return host.stats()["throws"]["exceptions"] == events; }, 20s))
      << host.stats().dump();
  ASSERT_TRUE(guardian::testing::wait_until([&] { return host.stats()["garbage"]["errors"] == events; }, 20s))
      << host.stats().dump();
  const auto blocked = host.stats()["blocks"];
  EXPECT_EQ(blocked["queued"], 64) << blocked.dump();
  EXPECT_EQ(blocked["dropped"], events - 1 - 64) << blocked.dump();
  EXPECT_GE(blocked["busy_ms"].get<int>(), 0);

  ASSERT_TRUE(guardian::testing::wait_until([&] { return log_.count("stuck") == 1; }, 10s)) << log_.joined();
  EXPECT_EQ(log_.count("throws: 3: on_event threw"), 5u) << "1st, 10th, 100th, 1000th, 2000th:\n" << log_.joined();
  EXPECT_GE(log_.count("garbage: 2: on_event failed (code 42)"), 1u) << log_.joined();
  EXPECT_EQ(log_.count("blocks: 2: is not keeping up"), 1u) << log_.joined();

  // Shutdown is bounded: the blocked plugin is abandoned, the others finish.
  const auto abandoned = host.shutdown(300ms);
  ASSERT_EQ(abandoned, std::vector<std::string>{"blocks"});
}

TEST_F(AbiTest, CreateThatNeverReturnsIsAbandoned) {
  auto options = guardian::testing::isolated_options({abi_dir}, log_);
  options.create_timeout = 200ms;
  PluginRunner host(options);
  const auto results = host.load({{"blocks", {{"block_in", "create"}}}});
  const auto* blocks = find(results, "blocks");
  ASSERT_NE(blocks, nullptr);
  EXPECT_EQ(blocks->status, PluginLoadResult::Status::failed);
  EXPECT_NE(blocks->message.find("did not return within 200 ms"), std::string::npos) << blocks->message;
  EXPECT_TRUE(host.loaded_plugins().empty());
}

TEST_F(AbiTest, HostQueryServiceReachesTheHandler) {
  PluginRunner host(guardian::testing::isolated_options({abi_dir}, log_));
  host.set_query_handler([](const nlohmann::json& what) {
    return nlohmann::json{{"asked", what["what"]}, {"state", "running"}};
  });
  const auto results =
      host.load({{"recorder", {{"file", (dir_ / "events.jsonl").string()}, {"query", "yes"}}}});
  ASSERT_EQ(find(results, "recorder")->status, PluginLoadResult::Status::loaded);
  EXPECT_EQ(log_.count(R"(recorder: 1: query answered {"asked":"status","state":"running"})"), 1u) << log_.joined();
}

TEST_F(AbiTest, EnabledByDefaultLoadsWithoutATable) {
  auto options = guardian::testing::isolated_options({abi_dir}, log_);
  options.enabled_by_default = {"garbage"};
  PluginRunner host(options);
  const auto results = host.load(nlohmann::json::object());
  EXPECT_EQ(find(results, "garbage")->status, PluginLoadResult::Status::loaded);
  EXPECT_EQ(host.loaded_plugins(), std::vector<std::string>{"garbage"});
}

}  // namespace
