#include "guardian/health/probe_target.hpp"

#include <charconv>
#include <fmt/format.h>

namespace guardian::health {
namespace {

constexpr std::string_view kForms =
    "use http://HOST:PORT/PATH (e.g. http://127.0.0.1:8000/health), tcp://HOST:PORT or exec:COMMAND";

std::optional<long> parse_number(std::string_view text) {
  long value = 0;
  auto [end, ec] = std::from_chars(text.data(), text.data() + text.size(), value);
  if (ec != std::errc{} || end != text.data() + text.size()) return std::nullopt;
  return value;
}

// "host:port" (or "[::1]:port"); `default_port` 0 means the port is required.
std::variant<std::pair<std::string, std::uint16_t>, std::string> split_authority(std::string_view authority,
                                                                                 std::uint16_t default_port,
                                                                                 std::string_view original) {
  std::string_view host = authority;
  std::string_view port_text;
  if (authority.starts_with('[')) {
    auto close = authority.find(']');
    if (close == std::string_view::npos) return fmt::format("'{}': unclosed '[' in the host; {}", original, kForms);
    host = authority.substr(1, close - 1);
    auto rest = authority.substr(close + 1);
    if (rest.starts_with(':')) port_text = rest.substr(1);
    else if (!rest.empty()) return fmt::format("'{}': unexpected '{}' after the host; {}", original, rest, kForms);
  } else if (auto colon = authority.rfind(':'); colon != std::string_view::npos) {
    host = authority.substr(0, colon);
    port_text = authority.substr(colon + 1);
  }
  if (host.empty()) return fmt::format("'{}' names no host; {}", original, kForms);
  if (port_text.empty()) {
    if (default_port == 0) return fmt::format("'{}' names no port; {}", original, kForms);
    return std::pair{std::string(host), default_port};
  }
  auto port = parse_number(port_text);
  if (!port || *port < 1 || *port > 65535)
    return fmt::format("'{}': '{}' is not a port (1-65535); {}", original, port_text, kForms);
  return std::pair{std::string(host), static_cast<std::uint16_t>(*port)};
}

}  // namespace

std::variant<ProbeTarget, std::string> parse_probe_target(std::string_view text) {
  if (text.starts_with("exec:")) {
    auto command = text.substr(5);
    if (command.find_first_not_of(" \t") == std::string_view::npos)
      return fmt::format("'{}' names no command; e.g. exec:pg_isready -h 127.0.0.1", text);
    return ProbeTarget{ExecTarget{std::string(command)}};
  }
  if (text.starts_with("https://"))
    return fmt::format("'{}': https probes are not supported; probe the server's plain http port, or use "
                       "exec:curl -fsS {}", text, text);
  bool http = text.starts_with("http://");
  bool tcp = text.starts_with("tcp://");
  if (!http && !tcp) return fmt::format("'{}' is not a health check; {}", text, kForms);
  auto rest = text.substr(http ? 7 : 6);
  auto slash = rest.find_first_of("/?");
  auto authority = rest.substr(0, slash);
  auto split = split_authority(authority, http ? 80 : 0, text);
  if (auto* error = std::get_if<std::string>(&split)) return *error;
  auto [host, port] = std::get<std::pair<std::string, std::uint16_t>>(split);
  if (tcp) {
    if (slash != std::string_view::npos) return fmt::format("'{}': a tcp:// check takes no path; {}", text, kForms);
    return ProbeTarget{TcpTarget{host, port}};
  }
  std::string path = slash == std::string_view::npos ? "/" : std::string(rest.substr(slash));
  if (path.starts_with('?')) path.insert(path.begin(), '/');
  return ProbeTarget{HttpTarget{host, port, path}};
}

std::string describe(const ProbeTarget& target) {
  auto bracket = [](const std::string& host) {
    return host.find(':') != std::string::npos ? "[" + host + "]" : host;
  };
  if (auto* h = std::get_if<HttpTarget>(&target)) return fmt::format("http://{}:{}{}", bracket(h->host), h->port, h->path);
  if (auto* t = std::get_if<TcpTarget>(&target)) return fmt::format("tcp://{}:{}", bracket(t->host), t->port);
  return "exec:" + std::get<ExecTarget>(target).command;
}

std::optional<StatusSet> StatusSet::parse(std::string_view text) {
  StatusSet set;
  set.ranges_.clear();
  while (!text.empty()) {
    auto comma = text.find(',');
    auto item = text.substr(0, comma);
    while (item.starts_with(' ')) item.remove_prefix(1);
    while (item.ends_with(' ')) item.remove_suffix(1);
    auto dash = item.find('-');
    auto low = parse_number(item.substr(0, dash));
    auto high = dash == std::string_view::npos ? low : parse_number(item.substr(dash + 1));
    if (!low || !high || *low < 100 || *high > 599 || *low > *high) return std::nullopt;
    set.ranges_.emplace_back(static_cast<int>(*low), static_cast<int>(*high));
    text = comma == std::string_view::npos ? std::string_view{} : text.substr(comma + 1);
  }
  if (set.ranges_.empty()) return std::nullopt;
  return set;
}

bool StatusSet::contains(int status) const {
  for (auto [low, high] : ranges_)
    if (status >= low && status <= high) return true;
  return false;
}

}  // namespace guardian::health
