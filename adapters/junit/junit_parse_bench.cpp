// Benchmark (not a test): the cost of reading a JUnit XML file of 10 000 test cases against the
// cost of merely reading its bytes, and of folding it into the report's tests section.
// Prints medians over repeated runs; asserts nothing. Built with -DGUARDIAN_BUILD_BENCH=ON.
//   junit_parse_bench [CASES] [REPEATS]
#include <fcntl.h>
#include <unistd.h>

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <string>
#include <vector>

#include <pugixml.hpp>

#include "adapters/junit/junit_parser.hpp"
#include "adapters/pytest/test_run_tracker.hpp"

namespace {

using Clock = std::chrono::steady_clock;
namespace junit = guardian::adapters::junit;

std::string make_xml(int cases) {
  std::string xml = "<?xml version=\"1.0\" encoding=\"utf-8\"?><testsuites><testsuite name=\"pytest\" time=\"12.5\">";
  for (int i = 0; i < cases; ++i) {
    xml += "<testcase classname=\"tests.test_module_" + std::to_string(i / 100) + "\" name=\"test_case_" +
           std::to_string(i) + "\" time=\"0.00" + std::to_string(i % 10) + "\"";
    if (i % 10 == 3) {  // 10 % failures with a pytest-sized traceback
      xml += "><failure message=\"AssertionError: value " + std::to_string(i) + " is wrong&#10;assert 1 == 2\">";
      for (int line = 0; line < 12; ++line) xml += "    traceback line " + std::to_string(line) + " of the failure\n";
      xml += "</failure></testcase>";
    } else if (i % 50 == 7) {
      xml += "><skipped type=\"pytest.skip\" message=\"not today\">skip</skipped></testcase>";
    } else {
      xml += " />";
    }
  }
  return xml + "</testsuite></testsuites>";
}

std::size_t read_only(const std::filesystem::path& path) {
  int fd = ::open(path.c_str(), O_RDONLY | O_CLOEXEC);
  std::string text;
  char buffer[65536];
  for (ssize_t n; (n = ::read(fd, buffer, sizeof buffer)) > 0;) text.append(buffer, static_cast<std::size_t>(n));
  ::close(fd);
  return text.size();
}

template <class F>
double median_ms(int repeats, F&& f) {
  std::vector<double> samples;
  for (int i = 0; i < repeats; ++i) {
    auto start = Clock::now();
    f();
    samples.push_back(std::chrono::duration<double, std::milli>(Clock::now() - start).count());
  }
  std::sort(samples.begin(), samples.end());
  return samples[samples.size() / 2];
}

}  // namespace

int main(int argc, char** argv) {
  const int cases = argc > 1 ? std::atoi(argv[1]) : 10000;
  const int repeats = argc > 2 ? std::atoi(argv[2]) : 21;
  const auto path = std::filesystem::temp_directory_path() / "guardian-junit-bench.xml";
  std::ofstream(path) << make_xml(cases);
  const auto bytes = std::filesystem::file_size(path);

  std::size_t sink = 0;
  double read_ms = median_ms(repeats, [&] { sink += read_only(path); });
  double load_ms = median_ms(repeats, [&] {
    pugi::xml_document document;
    sink += document.load_file(path.c_str()) ? 1 : 0;
  });
  double parse_ms = median_ms(repeats, [&] { sink += junit::read_junit_file(path).results.size(); });
  double fold_ms = median_ms(repeats, [&] {
    auto report = junit::read_junit_file(path);
    guardian::adapters::pytest::TestRunTracker tracker;
    for (const auto& result : report.results)
      tracker.consume({{"event", "test_finish"}, {"nodeid", result.nodeid}, {"outcome", result.outcome},
                       {"duration_s", result.duration_s}, {"text", result.text}, {"pid", 0}});
    sink += tracker.report_section().dump().size();
  });
  std::filesystem::remove(path);
  std::printf("junit_parse_bench: %d cases, %.1f MiB, median of %d runs (sink %zu)\n", cases,
              static_cast<double>(bytes) / (1024.0 * 1024.0), repeats, sink);
  std::printf("  read the bytes only        %8.2f ms\n", read_ms);
  std::printf("  pugixml document only      %8.2f ms   %.1fx the read\n", load_ms, load_ms / read_ms);
  std::printf("  read_junit_file (results)  %8.2f ms   %.1fx the read\n", parse_ms, parse_ms / read_ms);
  std::printf("  read + parse + tests fold  %8.2f ms   %.1fx the read\n", fold_ms, fold_ms / read_ms);
  return 0;
}
