// The websocket plugin's HTTP side without the network: the request target (path and query
// string, percent-decoding) through the router into the status API's strict query-parameter
// checks and handlers. Input: "METHOD TARGET" on the first line (just a target when there is
// no space), and optionally, after it, the JSON guardian answers status queries with.
#include <cstddef>
#include <cstdint>
#include <exception>
#include <string>
#include <string_view>

#include <nlohmann/json.hpp>

#include "plugins/websocket/router.hpp"
#include "plugins/websocket/status_api.hpp"
#include "plugins/websocket/telemetry.hpp"

using namespace guardian::websocket;
using nlohmann::json;

namespace {

const json kStatus = json::parse(R"({
  "run_id": "20260101-000000-1", "state": "running", "command": ["pytest"], "mode": "test",
  "started_at": "2026-01-01T00:00:00.000Z",
  "monitor": {"level": "NORMAL", "thresholds": {"cpu": {"warning_percent": 70, "critical_percent": 90}}},
  "latest_snapshot": {"time": "2026-01-01T00:00:01.000Z",
                      "tree": {"cpu_percent_of_ceiling": 12.5, "memory_bytes": 1048576,
                               "memory_ceiling_bytes": 2097152, "memory_percent_of_ceiling": 50},
                      "disks": [{"path": "/", "used_percent": 40, "total_bytes": 100, "available_bytes": 60}]},
  "servers": {"api": {"state": "up", "healthy": true, "restarts": 1}}
})");

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  const std::string_view input(reinterpret_cast<const char*>(data), size);
  const auto newline = input.find('\n');
  const std::string_view line = input.substr(0, newline);
  json status = kStatus;
  if (newline != std::string_view::npos) {
    auto answer = json::parse(input.substr(newline + 1), nullptr, false);
    if (!answer.is_discarded()) status = std::move(answer);
  }

  Telemetry telemetry;
  const StatusApi api([&](const json& what) { return what.value("what", "") == "status" ? status : json::object(); },
                      nullptr, telemetry);
  Router router;
  api.add_routes(router);

  HttpRequest request;
  const auto space = line.find(' ');
  request.method = space == std::string_view::npos ? "GET" : std::string(line.substr(0, space));
  request.target = std::string(space == std::string_view::npos ? line : line.substr(space + 1));
  parse_target(request.target, request.path, request.query);

  bool path_exists = false;
  if (const Router::Route* route = router.find(request.method, request.path, path_exists)) {
    try {
      (void)route->handler(request).body.size();
    } catch (const std::exception&) {
      // The server answers 500 for a handler that throws (server.cpp, ServerImpl::route).
    }
  }
  return 0;
}
