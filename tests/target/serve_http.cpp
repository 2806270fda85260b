// serve-http: a minimal HTTP/1.1 server on 127.0.0.1 answering GET /health with
// 200 "ok", so health probes can be tested against a real socket; GET /burn makes it burn
// a core for 30 s (a CPU-hungry endpoint for the monitor's tests).
#include <arpa/inet.h>
#include <netinet/in.h>
#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstring>
#include <string>
#include <string_view>
#include <thread>
#include <vector>

#include "modes.hpp"
#include "target_support.hpp"

namespace guardian::target {
namespace {

struct HttpOptions {
  long port = 0;
  bool hang = false;                 // accept and read, never answer
  long exit_after_requests = -1;     // -1: serve until max_seconds
  double slow_start_seconds = 0.0;   // wait before listening
  double max_seconds = 600.0;        // the mode always ends by itself
};

HttpOptions parse_options(Args args) {
  expect_arg_count("serve-http", args, 1, 9);
  HttpOptions options;
  options.port = parse_long(args[0], "PORT");
  if (options.port < 0 || options.port > 65535) usage_error("serve-http: PORT must be 0..65535");
  for (size_t i = 1; i < args.size(); ++i) {
    const std::string_view flag = args[i];
    auto value = [&]() -> std::string_view {
      if (i + 1 >= args.size()) usage_error("serve-http: " + std::string(flag) + " needs a value");
      return args[++i];
    };
    if (flag == "--hang") options.hang = true;
    else if (flag == "--exit-after-requests") options.exit_after_requests = parse_long(value(), "N");
    else if (flag == "--slow-start") options.slow_start_seconds = parse_seconds(value(), "--slow-start");
    else if (flag == "--max-seconds") options.max_seconds = parse_seconds(value(), "--max-seconds");
    else usage_error("serve-http: unknown option " + std::string(flag));
  }
  return options;
}

// Reads until the end of the request head, the deadline or the peer closing.
std::string read_request_head(int fd, const timespec& deadline) {
  std::string head;
  char buffer[2048];
  while (head.find("\r\n\r\n") == std::string::npos && head.size() < 65536) {
    pollfd entry{fd, POLLIN, 0};
    const int ready = poll(&entry, 1, std::min(milliseconds_left(deadline), 5000));
    if (ready <= 0) break;
    const ssize_t n = read(fd, buffer, sizeof buffer);
    if (n <= 0) break;
    head.append(buffer, static_cast<size_t>(n));
  }
  return head;
}

void send_response(int fd, int status, std::string_view reason, std::string_view body) {
  const std::string response = "HTTP/1.1 " + std::to_string(status) + " " + std::string(reason) +
                               "\r\nContent-Type: text/plain\r\nContent-Length: " +
                               std::to_string(body.size()) + "\r\nConnection: close\r\n\r\n" +
                               std::string(body);
  std::string_view rest = response;
  while (!rest.empty()) {
    const ssize_t n = send(fd, rest.data(), rest.size(), MSG_NOSIGNAL);
    if (n <= 0) return;
    rest.remove_prefix(static_cast<size_t>(n));
  }
}

// A busy thread for `seconds` (bounded by the mode's own deadline), answering meanwhile.
void burn_in_background(double seconds, const timespec& mode_deadline) {
  std::thread([seconds, mode_deadline] {
    const timespec deadline = deadline_after(seconds);
    volatile unsigned long sink = 0;
    while (!deadline_passed(deadline) && !deadline_passed(mode_deadline))
      for (int i = 0; i < 100000; ++i) sink = sink * 6364136223846793005UL + 1;
  }).detach();
}

}  // namespace

int mode_serve_http(Args args) {
  const HttpOptions options = parse_options(args);
  const timespec deadline = deadline_after(options.max_seconds);
  if (options.slow_start_seconds > 0) {
    say("starting slowly");
    sleep_until(deadline_after(options.slow_start_seconds));
  }
  const int listener = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
  const int one = 1;
  setsockopt(listener, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one);
  sockaddr_in address{};
  address.sin_family = AF_INET;
  address.sin_port = htons(static_cast<uint16_t>(options.port));
  address.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  if (bind(listener, reinterpret_cast<sockaddr*>(&address), sizeof address) != 0 ||
      listen(listener, 64) != 0) {
    complain("guardian-target: serve-http: cannot listen on 127.0.0.1:" +
             std::to_string(options.port) + ": " + std::strerror(errno));
    return 7;
  }
  socklen_t length = sizeof address;
  getsockname(listener, reinterpret_cast<sockaddr*>(&address), &length);
  say("listening " + std::to_string(ntohs(address.sin_port)));
  say("ready");

  std::vector<int> hung_connections;  // kept open so the client waits for nothing
  long answered = 0;
  while (!deadline_passed(deadline)) {
    pollfd entry{listener, POLLIN, 0};
    if (poll(&entry, 1, std::min(milliseconds_left(deadline), 1000)) <= 0) continue;
    const int connection = accept4(listener, nullptr, nullptr, SOCK_CLOEXEC);
    if (connection < 0) continue;
    const std::string head = read_request_head(connection, deadline);
    const std::string request_line = head.substr(0, head.find("\r\n"));
    say("request " + request_line);
    if (options.hang) {
      hung_connections.push_back(connection);
      continue;
    }
    if (request_line.starts_with("GET /health ")) {
      send_response(connection, 200, "OK", "ok");
    } else if (request_line.starts_with("GET /burn ")) {
      burn_in_background(30.0, deadline);
      send_response(connection, 200, "OK", "burning");
    } else send_response(connection, 404, "Not Found", "not found");
    close(connection);
    ++answered;
    if (options.exit_after_requests >= 0 && answered >= options.exit_after_requests) {
      say("exiting after " + std::to_string(answered) + " requests");
      return 0;
    }
  }
  return 0;
}

}  // namespace guardian::target
