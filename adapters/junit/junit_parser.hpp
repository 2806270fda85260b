#pragma once
// JUnit XML reader: turns one report written by pytest --junitxml, ctest --output-junit,
// GoogleTest --gtest_output=xml (or any runner writing <testsuites>/<testsuite>/<testcase>)
// into test results, or says plainly why it could not (missing, unreadable, not JUnit XML).
#include <filesystem>
#include <string>
#include <string_view>
#include <vector>

#include "adapters/pytest/test_run_tracker.hpp"

namespace guardian::adapters::junit {

using pytest::TestResult;

struct JunitReport {
  enum class Status { ok, missing, unreadable, malformed };
  Status status = Status::ok;
  std::string problem;               // why it is not ok, with what to do next
  std::vector<TestResult> results;   // outcome: passed, failed, error, skipped, xfailed
  double duration_s = 0;             // the suites' own time, else the sum of the tests'
  std::string tool;                  // best guess at the writer: pytest, ctest, googletest, junit
  bool ok() const { return status == Status::ok; }
};

std::string_view to_string(JunitReport::Status status);

// Parses XML text; `label` names it in problems (a path, "<string>").
JunitReport parse_junit(std::string_view xml, std::string_view label = "<string>");
// Reads and parses a file; never throws for a bad file.
JunitReport read_junit_file(const std::filesystem::path& path);

// Longest prefix of `text` of at most `max_bytes` that ends on a UTF-8 character boundary,
// with invalid UTF-8 sequences replaced by '?' (the report is JSON: it must stay valid UTF-8).
std::string clean_utf8(std::string_view text, std::size_t max_bytes = std::string::npos);

}  // namespace guardian::adapters::junit
