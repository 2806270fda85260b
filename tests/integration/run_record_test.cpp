// What a run leaves behind and tells: the run id and directory given to the command,
// events.jsonl, report.json (and its --report copy), and the stderr summary.
#include <cctype>

#include "harness.hpp"

namespace guardian::testing {
namespace {

// YYYY-MM-DDTHH:MM:SS[.fraction](Z|+HH:MM|+HHMM|-...). Hand-written: <regex> trips
// a false -Wmaybe-uninitialized in GCC 12 under the sanitizer build.
bool is_iso8601_with_zone(const std::string& text) {
  auto digits = [&](size_t at, size_t count) {
    if (at + count > text.size()) return false;
    for (size_t i = at; i < at + count; ++i)
      if (!std::isdigit(static_cast<unsigned char>(text[i]))) return false;
    return true;
  };
  auto is = [&](size_t at, char c) { return at < text.size() && text[at] == c; };
  if (!(digits(0, 4) && is(4, '-') && digits(5, 2) && is(7, '-') && digits(8, 2) && is(10, 'T') &&
        digits(11, 2) && is(13, ':') && digits(14, 2) && is(16, ':') && digits(17, 2)))
    return false;
  size_t at = 19;
  if (is(at, '.')) {
    const size_t start = ++at;
    while (digits(at, 1)) ++at;
    if (at == start) return false;
  }
  if (is(at, 'Z')) return at + 1 == text.size();
  if (!is(at, '+') && !is(at, '-')) return false;
  if (digits(at + 1, 2) && is(at + 3, ':') && digits(at + 4, 2)) return at + 6 == text.size();
  return digits(at + 1, 4) && at + 5 == text.size();
}

TEST(TimestampCheck, AcceptsOnlyIso8601WithAZone) {
  EXPECT_TRUE(is_iso8601_with_zone("2026-11-22T21:46:56.123+00:00"));
  EXPECT_TRUE(is_iso8601_with_zone("2026-11-22T21:46:56Z"));
  EXPECT_TRUE(is_iso8601_with_zone("2026-11-22T21:46:56-0530"));
  EXPECT_FALSE(is_iso8601_with_zone("2026-11-22T21:46:56"));  // no zone
  EXPECT_FALSE(is_iso8601_with_zone("2026-11-22 21:46:56Z"));
  EXPECT_FALSE(is_iso8601_with_zone("2026-11-22T21:46:56.Z"));
  EXPECT_FALSE(is_iso8601_with_zone("1795383216"));
}

TEST_F(GuardianTest, CommandSeesRunIdRunDirAndTheInheritedEnvironment) {
  SpawnOptions spawn = options(run_target(
      {}, {"print-env", "GUARDIAN_RUN_ID", "GUARDIAN_RUN_DIR", std::string(kMarkerVariable), "IT_PROBE"}));
  spawn.env.emplace_back("IT_PROBE", "hello world");
  GuardianProcess process(spawn);
  const RunResult result = process.wait(20s);
  ASSERT_EQ(result.exit_code, 0) << result.describe();
  const auto lines = result.out_lines();
  ASSERT_EQ(lines.size(), 4u) << result.describe();
  const std::string run_id = lines[0];
  const fs::path run_dir = lines[1];
  EXPECT_EQ(lines[2], marker_);
  EXPECT_EQ(lines[3], "hello world");

  EXPECT_FALSE(run_id.empty());
  EXPECT_EQ(run_dir.filename().string(), run_id);
  // Default location: .guardian/runs/<run-id>/ under the working directory.
  const fs::path expected_dir = only_run_dir(dir_);
  ASSERT_FALSE(expected_dir.empty());
  EXPECT_TRUE(fs::equivalent(run_dir, expected_dir)) << run_dir << " vs " << expected_dir;
  EXPECT_TRUE(fs::is_regular_file(run_dir / "events.jsonl"));
  const Json report_json = read_json_file(run_dir / "report.json");
  EXPECT_EQ(report_json.value("run_id", ""), run_id);
}

TEST_F(GuardianTest, RunDirFlagChoosesWhereRunsAreRecorded) {
  const fs::path runs = dir_ / "elsewhere";
  const RunResult result = run(run_target({"--runs-dir", runs.string()}, {"print-env", "GUARDIAN_RUN_DIR"}));
  ASSERT_EQ(result.exit_code, 0) << result.describe();
  const auto lines = result.out_lines();
  ASSERT_EQ(lines.size(), 1u) << result.describe();
  const fs::path run_dir = lines[0];
  EXPECT_TRUE(fs::equivalent(run_dir.parent_path(), runs)) << run_dir;
  EXPECT_TRUE(fs::is_regular_file(run_dir / "report.json"));
  EXPECT_FALSE(fs::exists(dir_ / ".guardian")) << "the default location was used as well";
}

TEST_F(GuardianTest, EventsAreJsonLinesWithTheRequiredFields) {
  const RunResult result = run(run_target({}, {"exit", "0"}));
  ASSERT_EQ(result.exit_code, 0) << result.describe();
  const fs::path run_dir = only_run_dir(dir_);
  ASSERT_FALSE(run_dir.empty());
  const std::vector<Json> events = read_json_lines(run_dir / "events.jsonl");
  ASSERT_FALSE(events.empty()) << "events.jsonl is empty";
  for (const Json& event : events) {
    ASSERT_TRUE(event.is_object()) << event.dump();
    ASSERT_TRUE(event.contains("ts") && event["ts"].is_string()) << event.dump();
    EXPECT_TRUE(is_iso8601_with_zone(event["ts"].get<std::string>()))
        << "ts is not ISO 8601 with a zone: " << event.dump();
    for (const char* field : {"level", "component", "event", "message"})
      EXPECT_TRUE(event.contains(field) && event[field].is_string()) << field << " in " << event.dump();
    EXPECT_TRUE(event.contains("context") && event["context"].is_object()) << event.dump();
  }
}

TEST_F(GuardianTest, ReportHoldsEveryRequiredField) {
  const RunResult result = run(run_target_reported({"--mode", "test"}, {"sleep", "0.2"}));
  ASSERT_EQ(result.exit_code, 0) << result.describe();
  const Json r = report();
  ASSERT_TRUE(r.is_object());
  EXPECT_TRUE(r.value("run_id", "") != "") << r.dump(2);
  EXPECT_EQ(r.value("command", Json()), Json({target_bin(), "sleep", "0.2"}));
  EXPECT_EQ(r.value("mode", ""), "test");
  for (const char* field : {"started_at", "ended_at"}) {
    ASSERT_TRUE(r.contains(field) && r[field].is_string()) << field << "\n" << r.dump(2);
    EXPECT_TRUE(is_iso8601_with_zone(r[field].get<std::string>())) << r[field];
  }
  ASSERT_TRUE(r.contains("duration_ms") && r["duration_ms"].is_number()) << r.dump(2);
  EXPECT_GE(r["duration_ms"].get<double>(), 0.0);
  EXPECT_EQ(r.value("exit_code", -1), 0);
  EXPECT_EQ(r.value("outcome", ""), "exited");
  EXPECT_TRUE(r.contains("signal") && r["signal"].is_null());
  EXPECT_EQ(r.value("timed_out", true), false);
  EXPECT_EQ(r.value("escalated_to_kill", true), false);
  ASSERT_TRUE(r.contains("resources") && r["resources"].is_object()) << r.dump(2);
  for (const char* field : {"peak_memory_bytes", "cpu_time_ms", "processes_observed"}) {
    ASSERT_TRUE(r["resources"].contains(field) && r["resources"][field].is_number()) << field << "\n" << r.dump(2);
    EXPECT_GE(r["resources"][field].get<double>(), 0.0) << field;
  }
  EXPECT_GE(r["resources"]["processes_observed"].get<double>(), 1.0);
  ASSERT_TRUE(r.contains("enforcement") && r["enforcement"].is_object()) << r.dump(2);
  EXPECT_FALSE(r["enforcement"].value("backend", "").empty()) << r.dump(2);
}

TEST_F(GuardianTest, ReportCountsTheCommandsCpuTimeAndMemory) {
  // 96 MiB held for 2 s, then 1 s of busy loop in a second run: the report must show them.
  const RunResult memory_run = run(run_target_reported({}, {"alloc", "96", "2"}));
  ASSERT_EQ(memory_run.exit_code, 0) << memory_run.describe();
  const Json memory_report = report();
  ASSERT_TRUE(memory_report.is_object());
  EXPECT_GE(memory_report["resources"].value("peak_memory_bytes", 0.0), 96.0 * 1024 * 1024)
      << memory_report.dump(2);

  const RunResult cpu_run = run(run_target_reported({}, {"spin", "1", "1"}));
  ASSERT_EQ(cpu_run.exit_code, 0) << cpu_run.describe();
  const Json cpu_report = report();
  ASSERT_TRUE(cpu_report.is_object());
  // Far below the ~1000 ms a spinning second costs, so a busy machine cannot fail it.
  EXPECT_GE(cpu_report["resources"].value("cpu_time_ms", 0.0), 100.0) << cpu_report.dump(2);
}

TEST_F(GuardianTest, ReportFlagWritesACopyOfTheRunReport) {
  const RunResult result = run(run_target_reported({}, {"exit", "7"}));
  ASSERT_EQ(result.exit_code, 7) << result.describe();
  const fs::path run_dir = only_run_dir(dir_);
  ASSERT_FALSE(run_dir.empty());
  const Json original = read_json_file(run_dir / "report.json");
  const Json copy = report();
  EXPECT_EQ(copy, original);
  EXPECT_EQ(copy.value("exit_code", -1), 7);
}

TEST_F(GuardianTest, QuietKeepsStderrEmptyOnSuccess) {
  const RunResult result = run(run_target({"--quiet"}, {"print-args", "hello"}));
  ASSERT_EQ(result.exit_code, 0) << result.describe();
  EXPECT_EQ(result.out, "hello\n");
  EXPECT_EQ(result.err, "") << result.describe();
}

TEST_F(GuardianTest, WithoutQuietStderrEndsWithOneSummaryLine) {
  const RunResult result = run(run_target({}, {"exit", "42"}));
  ASSERT_EQ(result.exit_code, 42) << result.describe();
  const auto lines = result.err_lines();
  ASSERT_FALSE(lines.empty()) << "no summary line on stderr";
  EXPECT_NE(lines.back().find("42"), std::string::npos) << "the summary should give the exit code: " << lines.back();
  // The command's own output stays on stdout, untouched by guardian's lines.
  EXPECT_EQ(result.out, "");
}

}  // namespace
}  // namespace guardian::testing
