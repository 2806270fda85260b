// The JUnit XML reader on arbitrary bytes: any report is read or refused with a reason; what
// it returns goes into the run report as JSON, so its text must stay valid UTF-8 (dump()
// throws on invalid UTF-8, which would end the fuzzer here).
#include <cstddef>
#include <cstdint>
#include <string_view>

#include <nlohmann/json.hpp>

#include "adapters/junit/junit_parser.hpp"

using namespace guardian::adapters::junit;

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  const std::string_view xml(reinterpret_cast<const char*>(data), size);
  const JunitReport report = parse_junit(xml, "fuzz.xml");
  nlohmann::json out = {{"status", to_string(report.status)}, {"problem", report.problem},
                        {"tool", report.tool}, {"duration_s", report.duration_s}};
  for (const auto& result : report.results)
    out["results"].push_back({{"nodeid", result.nodeid}, {"outcome", result.outcome},
                              {"text", result.text}, {"duration_s", result.duration_s}});
  (void)out.dump();
  (void)clean_utf8(xml, size / 2).size();
  nlohmann::json cleaned = clean_utf8(xml);
  (void)cleaned.dump();
  return 0;
}
