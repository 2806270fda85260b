// The websocket plugin's server as a client on the network sees it: the real Beast server on
// a loopback port, fed arbitrary bytes over TCP. Even first byte: the bytes are the request
// itself (HTTP parsing, headers, the upgrade handshake, the token); odd: after a valid upgrade
// to /ws, the bytes are WebSocket frames. The connection is then half-closed and read until
// the server closes it, so every input ends in the server's own handling.
#include <arpa/inet.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <sys/time.h>
#include <unistd.h>

#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <memory>
#include <string>
#include <string_view>

#include "plugins/websocket/router.hpp"
#include "plugins/websocket/server.hpp"

using namespace guardian::websocket;

namespace {

constexpr const char* kToken = "fuzz-token";

Server& server() {
  static const std::unique_ptr<Server> instance = [] {
    ServerOptions options;
    options.bind_address = "127.0.0.1";
    options.port = 0;
    options.token = kToken;
    options.ping_interval_ms = 2000;
    Router router;
    router.add("GET", "/healthz", [](const HttpRequest&) { return json_response(200, R"({"ok":true})"); }, false);
    router.add("GET", "/api/data", [](const HttpRequest& r) { return json_response(200, "{\"n\":" + std::to_string(r.query.size()) + "}"); });
    router.add("POST", "/api/data", [](const HttpRequest& r) { return json_response(200, "{\"body\":" + std::to_string(r.body.size()) + "}"); });
    std::string error;
    auto started = Server::start(options, std::move(router), nullptr, error);
    if (!started) std::abort();
    return started;
  }();
  return *instance;
}

int connect_to(std::uint16_t port) {
  const int fd = ::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
  if (fd < 0) std::abort();
  timeval timeout{5, 0};  // a server that never answers shows as a slow input, not a hang
  ::setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &timeout, sizeof timeout);
  ::setsockopt(fd, SOL_SOCKET, SO_SNDTIMEO, &timeout, sizeof timeout);
  sockaddr_in address{};
  address.sin_family = AF_INET;
  address.sin_port = htons(port);
  address.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  if (::connect(fd, reinterpret_cast<sockaddr*>(&address), sizeof address) != 0) std::abort();
  return fd;
}

void send_all(int fd, std::string_view bytes) {
  while (!bytes.empty()) {
    const ssize_t n = ::send(fd, bytes.data(), bytes.size(), MSG_NOSIGNAL);
    if (n <= 0) return;  // the server may close early (e.g. 431); that is an answer
    bytes.remove_prefix(static_cast<std::size_t>(n));
  }
}

// Reads until `until` appears (empty: until the server closes the connection).
std::string read_until(int fd, std::string_view until) {
  std::string got;
  char buffer[4096];
  while (true) {
    const ssize_t n = ::recv(fd, buffer, sizeof buffer, 0);
    if (n <= 0) return got;
    got.append(buffer, static_cast<std::size_t>(n));
    if (!until.empty() && got.find(until) != std::string::npos) return got;
  }
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  if (size == 0) return 0;
  const bool frames = (data[0] & 1) != 0;
  const std::string_view bytes(reinterpret_cast<const char*>(data) + 1, size - 1);
  const int fd = connect_to(server().port());
  if (frames) {
    send_all(fd, std::string("GET /ws?token=") + kToken +
                     " HTTP/1.1\r\nHost: 127.0.0.1\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n"
                     "Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\nSec-WebSocket-Version: 13\r\n\r\n");
    const std::string answer = read_until(fd, "\r\n\r\n");
    // A valid upgrade must be accepted. No answer at all within the socket's 5 s timeout is a
    // starved machine (seen at 2 executions/s under load 12), not a refusal: a slow input.
    if (answer.empty()) {
      ::close(fd);
      return 0;
    }
    if (answer.rfind("HTTP/1.1 101", 0) != 0) std::abort();
  }
  send_all(fd, bytes);
  ::shutdown(fd, SHUT_WR);
  (void)read_until(fd, "");
  ::close(fd);
  return 0;
}
