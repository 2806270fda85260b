#pragma once
// What a health check probes, parsed from the text a user gives: "http://host:port/path",
// "tcp://host:port" or "exec:COMMAND", plus the HTTP statuses that count as healthy.
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <variant>
#include <vector>

namespace guardian::health {

struct HttpTarget {
  std::string host;
  std::uint16_t port = 80;
  std::string path = "/";  // with the query, as sent in the request line
};

struct TcpTarget {
  std::string host;
  std::uint16_t port = 0;
};

struct ExecTarget {
  std::string command;  // run with /bin/sh -c
};

using ProbeTarget = std::variant<HttpTarget, TcpTarget, ExecTarget>;

/// The target, or why `text` is not one (with examples of valid forms).
std::variant<ProbeTarget, std::string> parse_probe_target(std::string_view text);
/// "http://127.0.0.1:8000/health", "tcp://db:5432", "exec:pg_isready".
std::string describe(const ProbeTarget& target);

/// HTTP statuses that count as healthy: "200-399" (the default), "200,204", "200-299,304".
class StatusSet {
 public:
  StatusSet() : ranges_{{200, 399}} {}
  /// Empty optional when `text` is not a list of statuses or ranges.
  static std::optional<StatusSet> parse(std::string_view text);
  bool contains(int status) const;

 private:
  std::vector<std::pair<int, int>> ranges_;
};

}  // namespace guardian::health
