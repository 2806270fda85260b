#include "adapters/junit/junit_parser.hpp"

#include <fcntl.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstdlib>
#include <cstring>
#include <system_error>

#include <fmt/format.h>
#include <pugixml.hpp>

namespace guardian::adapters::junit {
namespace {

// Failure text kept per test, like the pytest plugin: a summary, not the whole log.
constexpr std::size_t kMaxText = 2000;

// Bytes of a valid UTF-8 sequence starting at `i` (RFC 3629 table), 0 if invalid.
std::size_t utf8_sequence(std::string_view s, std::size_t i) {
  auto at = [&](std::size_t k) { return static_cast<unsigned char>(s[k]); };
  const unsigned char c = at(i);
  if (c < 0x80) return 1;
  auto in = [&](std::size_t k, unsigned char lo, unsigned char hi) { return k < s.size() && at(k) >= lo && at(k) <= hi; };
  if (c >= 0xC2 && c <= 0xDF) return in(i + 1, 0x80, 0xBF) ? 2 : 0;
  if (c >= 0xE0 && c <= 0xEF) {
    unsigned char lo = c == 0xE0 ? 0xA0 : 0x80, hi = c == 0xED ? 0x9F : 0xBF;
    return in(i + 1, lo, hi) && in(i + 2, 0x80, 0xBF) ? 3 : 0;
  }
  if (c >= 0xF0 && c <= 0xF4) {
    unsigned char lo = c == 0xF0 ? 0x90 : 0x80, hi = c == 0xF4 ? 0x8F : 0xBF;
    return in(i + 1, lo, hi) && in(i + 2, 0x80, 0xBF) && in(i + 3, 0x80, 0xBF) ? 4 : 0;
  }
  return 0;
}

std::string trimmed(std::string_view text) {
  auto begin = text.find_first_not_of(" \t\r\n");
  if (begin == std::string_view::npos) return {};
  auto end = text.find_last_not_of(" \t\r\n");
  return std::string(text.substr(begin, end - begin + 1));
}

double seconds(const pugi::xml_node& node) {
  // Runners write "0.012", "1,234.5" (some Java locales) or nothing.
  std::string text = node.attribute("time").as_string();
  text.erase(std::remove(text.begin(), text.end(), ','), text.end());
  char* end = nullptr;
  double value = std::strtod(text.c_str(), &end);
  return end != text.c_str() && value > 0 ? value : 0.0;
}

// The short text of a failure: its message, else its body, else what the test printed.
std::string failure_text(const pugi::xml_node& testcase, const pugi::xml_node& problem) {
  std::string text = trimmed(problem.attribute("message").as_string());
  if (text.empty()) text = trimmed(problem.text().get());
  if (text.empty()) text = trimmed(testcase.child("system-out").text().get());
  if (text.empty()) text = trimmed(testcase.child("system-err").text().get());
  return clean_utf8(text, kMaxText);
}

// CTest's status="notrun" is a failure unless the test asked to be skipped (SKIP_RETURN_CODE,
// SKIP_REGULAR_EXPRESSION): a missing executable, missing required files or a failed fixture.
bool ctest_not_run(const pugi::xml_node& testcase) {
  // GoogleTest writes status="notrun" for DISABLED_ tests, with its own result="suppressed".
  if (testcase.attribute("result") || std::string_view(testcase.attribute("status").as_string()) != "notrun")
    return false;
  return !std::string_view(testcase.child("skipped").attribute("message").as_string()).starts_with("SKIP_");
}

TestResult to_result(const pugi::xml_node& testcase) {
  TestResult result;
  std::string name = testcase.attribute("name").as_string();
  std::string classname = testcase.attribute("classname").as_string();
  // GoogleTest's own spelling is Suite.Test (as in --gtest_filter); others read best as class::name.
  const char* separator = testcase.attribute("result") ? "." : "::";
  result.nodeid = clean_utf8(classname.empty() || classname == name ? name : classname + separator + name);
  result.duration_s = seconds(testcase);
  result.outcome = "passed";
  if (ctest_not_run(testcase)) {
    result.outcome = "failed";  // ctest itself lists it under "The following tests FAILED: ... (Not Run)"
    // What ctest printed ("Unable to find executable: /path") says more than the reason alone.
    std::string text = trimmed(testcase.child("system-out").text().get());
    if (text.empty()) text = trimmed(testcase.child("skipped").attribute("message").as_string());
    result.text = clean_utf8(text, kMaxText);
  } else if (auto failure = testcase.child("failure")) {
    result.outcome = "failed";
    result.text = failure_text(testcase, failure);
  } else if (auto error = testcase.child("error")) {
    result.outcome = "error";
    result.text = failure_text(testcase, error);
  } else if (auto skipped = testcase.child("skipped")) {
    result.outcome = std::string_view(skipped.attribute("type").as_string()) == "pytest.xfail" ? "xfailed" : "skipped";
  } else {
    std::string_view status = testcase.attribute("status").as_string();
    std::string_view gtest_result = testcase.attribute("result").as_string();
    if (status == "notrun" || status == "disabled" || gtest_result == "skipped" || gtest_result == "suppressed")
      result.outcome = "skipped";
  }
  return result;
}

std::string guess_tool(const pugi::xml_node& root, const pugi::xml_node& first_case) {
  if (std::string_view(root.name()) == "testsuites" && std::string_view(root.attribute("name").as_string()) == "AllTests")
    return "googletest";
  if (first_case && first_case.attribute("result")) return "googletest";
  auto suite = std::string_view(root.name()) == "testsuite" ? root : root.child("testsuite");
  if (std::string_view(suite.attribute("name").as_string()) == "pytest") return "pytest";
  if (first_case && first_case.attribute("status")) return "ctest";
  return "junit";
}

// Line number of a byte offset, for parse errors a person can find.
std::size_t line_of(std::string_view text, std::ptrdiff_t offset) {
  auto end = text.begin() + std::clamp<std::ptrdiff_t>(offset, 0, static_cast<std::ptrdiff_t>(text.size()));
  return 1 + static_cast<std::size_t>(std::count(text.begin(), end, '\n'));
}

}  // namespace

std::string_view to_string(JunitReport::Status status) {
  switch (status) {
    case JunitReport::Status::ok: return "ok";
    case JunitReport::Status::missing: return "missing";
    case JunitReport::Status::unreadable: return "unreadable";
    case JunitReport::Status::malformed: return "malformed";
  }
  return "malformed";
}

std::string clean_utf8(std::string_view text, std::size_t max_bytes) {
  // Most runner output is ASCII: nothing to check or cut.
  if (text.size() <= max_bytes &&
      std::all_of(text.begin(), text.end(), [](char c) { return static_cast<unsigned char>(c) < 0x80; }))
    return std::string(text);
  std::string out;
  out.reserve(std::min(text.size(), max_bytes));
  for (std::size_t i = 0; i < text.size();) {
    std::size_t n = utf8_sequence(text, i);
    std::size_t take = n == 0 ? 1 : n;
    if (out.size() + take > max_bytes) break;
    if (n == 0) out.push_back('?');
    else out.append(text.substr(i, n));
    i += take;
  }
  return out;
}

JunitReport parse_junit(std::string_view xml, std::string_view label) {
  JunitReport report;
  pugi::xml_document document;
  auto parsed = document.load_buffer(xml.data(), xml.size(), pugi::parse_default, pugi::encoding_auto);
  if (!parsed) {
    report.status = JunitReport::Status::malformed;
    report.problem = fmt::format("{}:{}: not well-formed XML ({}); was the runner stopped while writing it?",
                                 label, line_of(xml, parsed.offset), parsed.description());
    return report;
  }
  auto root = document.document_element();
  std::string_view root_name = root.name();
  if (root_name != "testsuites" && root_name != "testsuite") {
    report.status = JunitReport::Status::malformed;
    report.problem = fmt::format("{}: not JUnit XML (the root element is <{}>, expected <testsuites> or <testsuite>); "
                                 "point --junit at the file the test runner wrote",
                                 label, clean_utf8(root_name, 80));  // any bytes: it goes into report.json
    return report;
  }
  pugi::xml_node first_case;
  double tests_s = 0;
  // Nested suites are allowed (Maven, some JS runners): every <testcase> below the root counts.
  struct Walker : pugi::xml_tree_walker {
    JunitReport& out;
    pugi::xml_node& first;
    double& total_s;
    Walker(JunitReport& o, pugi::xml_node& f, double& t) : out(o), first(f), total_s(t) {}
    bool for_each(pugi::xml_node& node) override {
      if (node.type() != pugi::node_element || std::string_view(node.name()) != "testcase") return true;
      if (!first) first = node;
      out.results.push_back(to_result(node));
      total_s += out.results.back().duration_s;
      return true;
    }
  } walker(report, first_case, tests_s);
  root.traverse(walker);

  double suites_s = seconds(root);
  if (suites_s == 0 && root_name == "testsuites")
    for (auto suite : root.children("testsuite")) suites_s += seconds(suite);
  report.duration_s = suites_s > 0 ? suites_s : tests_s;
  report.tool = guess_tool(root, first_case);
  return report;
}

JunitReport read_junit_file(const std::filesystem::path& path) {
  JunitReport report;
  int fd = ::open(path.c_str(), O_RDONLY | O_CLOEXEC);
  if (fd < 0) {
    const int error = errno;
    report.status = error == ENOENT ? JunitReport::Status::missing : JunitReport::Status::unreadable;
    report.problem = error == ENOENT
                         ? fmt::format("{}: no such file; did the test runner write it there? (pytest --junitxml {}, "
                                       "ctest --output-junit (a relative path is taken from ctest's --test-dir, "
                                       "not the working directory), --gtest_output=xml:{})",
                                       path.string(), path.string(), path.string())
                         : fmt::format("{}: cannot open: {}; check its permissions", path.string(), std::strerror(error));
    return report;
  }
  std::string text;
  char buffer[65536];
  for (;;) {
    ssize_t n = ::read(fd, buffer, sizeof buffer);
    if (n > 0) {
      text.append(buffer, static_cast<std::size_t>(n));
      continue;
    }
    if (n < 0 && errno == EINTR) continue;
    if (n < 0) {
      const int error = errno;
      ::close(fd);
      report.status = JunitReport::Status::unreadable;
      report.problem = fmt::format("{}: cannot read: {}{}", path.string(), std::strerror(error),
                                   error == EISDIR ? "; name the XML file, not its directory" : "");
      return report;
    }
    break;
  }
  ::close(fd);
  if (text.empty()) {
    report.status = JunitReport::Status::malformed;
    report.problem = fmt::format("{}: the file is empty; the test runner may have been killed before writing it",
                                 path.string());
    return report;
  }
  return parse_junit(text, path.string());
}

}  // namespace guardian::adapters::junit
