// Server: the websocket plugin's network side — one io thread with Boost.Beast serving
// WebSocket broadcast (/ws) and HTTP routes on one port. Beast stays inside server.cpp.
#pragma once

#include <cstdint>
#include <functional>
#include <memory>
#include <string>
#include <vector>

#include "router.hpp"

namespace guardian::websocket {

struct ServerOptions {
  std::string bind_address = "127.0.0.1";
  std::uint16_t port = 8765;  // 0 = any free port (see Server::port())
  std::string token;          // empty = no token (loopback only)
  // Browser Origin values accepted besides the server's own (http://127.0.0.1:<port>,
  // http://localhost:<port>, http://<bind_address>:<port>); "*" = any.
  std::vector<std::string> allowed_origins;
  std::size_t max_queue_messages = 1024;     // per client; beyond it the client is dropped
  std::size_t max_clients = 256;
  int ping_interval_ms = 20000;  // idle time before a ping; no answer within it closes the client
};

using LogFn = std::function<void(int level, const std::string& message)>;

class Server {
 public:
  virtual ~Server() = default;
  // Starts listening and the io thread. Returns nullptr with error set on failure.
  static std::unique_ptr<Server> start(const ServerOptions& options, Router router, LogFn log, std::string& error);

  virtual std::uint16_t port() const = 0;
  // Thread-safe; the message goes to every connected client in call order.
  virtual void broadcast(std::string message) = 0;
  // Closes every client with 1001 (going away), waits up to timeout_ms for the close
  // handshakes, then stops the io thread. Idempotent.
  virtual void stop(int timeout_ms) = 0;
  virtual std::size_t client_count() const = 0;
};

// True for 127.0.0.0/8, ::1 and "localhost".
bool is_loopback_address(const std::string& address);

}  // namespace guardian::websocket
