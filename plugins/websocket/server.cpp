// All of the websocket plugin's Boost.Beast code (slow to compile: keep it in this one file).
#include "server.hpp"

#include "access.hpp"

#include <fcntl.h>

#include <atomic>
#include <chrono>
#include <condition_variable>
#include <deque>
#include <mutex>
#include <set>
#include <thread>

#include <boost/asio.hpp>
#include <boost/beast/core.hpp>
#include <boost/beast/http.hpp>
#include <boost/beast/websocket.hpp>

#include "guardian/plugin.h"

namespace guardian::websocket {

namespace beast = boost::beast;
namespace http = beast::http;
namespace ws = beast::websocket;
namespace net = boost::asio;
using tcp = net::ip::tcp;

bool is_loopback_address(const std::string& address) {
  if (address == "localhost") return true;
  boost::system::error_code ec;
  const auto parsed = net::ip::make_address(address, ec);
  return !ec && parsed.is_loopback();
}

namespace {

HttpRequest to_request(const http::request<http::string_body>& req) {
  HttpRequest out;
  out.method = std::string(req.method_string());
  out.target = std::string(req.target());
  parse_target(out.target, out.path, out.query);
  for (const auto& field : req) out.headers[lower(std::string(field.name_string()))] = std::string(field.value());
  out.body = req.body();
  return out;
}

class ServerImpl;

// One WebSocket client: a bounded queue of shared messages, one write at a time.
class WsSession : public std::enable_shared_from_this<WsSession> {
 public:
  WsSession(tcp::socket socket, ServerImpl& server, std::uint64_t id)
      : ws_(std::move(socket)), server_(server), id_(id) {}

  void start(http::request<http::string_body> request);
  void send(const std::shared_ptr<const std::string>& message);
  void begin_close();
  void hard_close() {
    beast::error_code ec;
    beast::get_lowest_layer(ws_).socket().close(ec);
  }
  std::uint64_t id() const { return id_; }

 private:
  void on_accept(beast::error_code ec);
  void do_read();
  void do_write();
  void do_close();
  void finish();

  ws::stream<beast::tcp_stream> ws_;
  ServerImpl& server_;
  std::uint64_t id_;
  beast::flat_buffer buffer_;
  std::deque<std::shared_ptr<const std::string>> queue_;
  bool open_ = false;
  bool writing_ = false;
  bool closing_ = false;
  bool close_sent_ = false;
  bool dropped_ = false;
  bool finished_ = false;
};

// One HTTP connection: routes requests, or hands an upgrade to a WsSession.
class HttpSession : public std::enable_shared_from_this<HttpSession> {
 public:
  HttpSession(tcp::socket socket, ServerImpl& server) : stream_(std::move(socket)), server_(server) {}
  void run() { do_read(); }

 private:
  void do_read();
  void on_read(beast::error_code ec);
  void write(HttpResponse response, bool keep_alive);
  void drain();

  beast::tcp_stream stream_;
  ServerImpl& server_;
  beast::flat_buffer buffer_;
  std::optional<http::request_parser<http::string_body>> parser_;
};

class ServerImpl final : public Server {
 public:
  ServerImpl(ServerOptions options, Router router, LogFn log)
      : options_(std::move(options)), router_(std::move(router)), log_(std::move(log)), acceptor_(ioc_) {}

  ~ServerImpl() override { stop(1000); }

  bool listen(std::string& error) {
    beast::error_code ec;
    const auto address = net::ip::make_address(
        options_.bind_address == "localhost" ? std::string("127.0.0.1") : options_.bind_address, ec);
    if (ec) {
      error = "bind address '" + options_.bind_address + "' is not an IP address (" + ec.message() + ")";
      return false;
    }
    const tcp::endpoint endpoint(address, options_.port);
    acceptor_.open(endpoint.protocol(), ec);
    // Asio opens sockets without SOCK_CLOEXEC: the supervised command must never inherit
    // the dashboard's listening socket (it could accept() dashboard connections).
    if (!ec) ::fcntl(acceptor_.native_handle(), F_SETFD, FD_CLOEXEC);
    if (!ec) acceptor_.set_option(net::socket_base::reuse_address(true), ec);
    if (!ec) acceptor_.bind(endpoint, ec);
    if (!ec) acceptor_.listen(net::socket_base::max_listen_connections, ec);
    if (ec) {
      error = "listening on " + options_.bind_address + ":" + std::to_string(options_.port) + ": " + ec.message() +
              "; choose another [plugins.websocket] port (0 picks a free one)";
      return false;
    }
    port_ = acceptor_.local_endpoint().port();
    do_accept();
    thread_ = std::thread([this] {
      ioc_.run();
      std::lock_guard lock(mutex_);
      stopped_ = true;
      stopped_cv_.notify_all();
    });
    return true;
  }

  std::uint16_t port() const override { return port_; }
  std::size_t client_count() const override { return client_count_.load(); }

  void broadcast(std::string message) override {
    auto shared = std::make_shared<const std::string>(std::move(message));
    net::post(ioc_, [this, shared] {
      // A copy: send() may drop a client, and its removal must not invalidate this loop.
      const std::vector<std::shared_ptr<WsSession>> targets(sessions_.begin(), sessions_.end());
      for (const auto& session : targets) session->send(shared);
    });
  }

  void stop(int timeout_ms) override {
    if (!thread_.joinable()) return;
    net::post(ioc_, [this] {
      stopping_ = true;
      beast::error_code ec;
      acceptor_.close(ec);
      const std::vector<std::shared_ptr<WsSession>> targets(sessions_.begin(), sessions_.end());
      for (const auto& session : targets) session->begin_close();
    });
    work_.reset();
    {
      std::unique_lock lock(mutex_);
      stopped_cv_.wait_for(lock, std::chrono::milliseconds(timeout_ms), [&] { return stopped_; });
    }
    // Clients that did not finish the close handshake in time (stalled readers) are cut.
    net::post(ioc_, [this] {
      for (const auto& session : sessions_) session->hard_close();
      ioc_.stop();
    });
    thread_.join();
  }

  // --- used by the sessions, on the io thread ---
  const ServerOptions& options() const { return options_; }
  void log(int level, const std::string& message) const {
    if (log_) log_(level, message);
  }
  void add(const std::shared_ptr<WsSession>& session) {
    sessions_.insert(session);
    client_count_.store(sessions_.size());
  }
  void remove(const std::shared_ptr<WsSession>& session) {
    sessions_.erase(session);
    client_count_.store(sessions_.size());
  }
  bool stopping() const { return stopping_; }

  // Token check for both upgrades and protected routes (access.cpp).
  bool authorized(const HttpRequest& request) const { return token_accepted(request, options_.token); }
  // Browsers always send Origin on a WebSocket upgrade; other clients may omit it.
  bool origin_allowed(const HttpRequest& request) const { return origin_accepted(request, options_, port_); }

  void handle_upgrade(beast::tcp_stream& stream, http::request<http::string_body> req,
                      const std::function<void(HttpResponse)>& refuse) {
    const HttpRequest request = to_request(req);
    if (request.path != "/ws") {
      refuse(json_response(404, R"({"error":"WebSocket endpoint is /ws"})"));
      return;
    }
    if (!authorized(request)) {
      log(GUARDIAN_LOG_WARNING, "refused a WebSocket client without the right token");
      refuse(json_response(401, R"({"error":"missing or wrong token: connect to /ws?token=<token>"})"));
      return;
    }
    if (!origin_allowed(request)) {
      log(GUARDIAN_LOG_WARNING, "refused a WebSocket client from Origin '" + request.header("origin") +
                                    "' (add it to [plugins.websocket] allowed_origins to accept it)");
      refuse(json_response(403, R"({"error":"Origin not allowed"})"));
      return;
    }
    if (sessions_.size() >= options_.max_clients || stopping_) {
      refuse(json_response(503, R"({"error":"too many clients"})"));
      return;
    }
    auto session = std::make_shared<WsSession>(stream.release_socket(), *this, ++next_id_);
    add(session);  // before the handshake completes, so no event sent after the upgrade is missed
    session->start(std::move(req));
  }

  HttpResponse route(const HttpRequest& request) const {
    bool path_exists = false;
    const Router::Route* found = router_.find(request.method, request.path, path_exists);
    if (found == nullptr) {
      return path_exists ? json_response(405, R"({"error":"method not allowed"})")
                         : json_response(404, R"({"error":"not found"})");
    }
    if (found->requires_token && !authorized(request)) {
      return json_response(401, R"({"error":"missing or wrong token: add ?token=<token> or Authorization: Bearer"})");
    }
    try {
      return found->handler(request);
    } catch (const std::exception& e) {
      log(GUARDIAN_LOG_ERROR, "HTTP handler for " + request.path + " failed: " + e.what());
      return json_response(500, R"({"error":"handler failed"})");
    }
  }

 private:
  void do_accept() {
    acceptor_.async_accept([this](beast::error_code ec, tcp::socket socket) {
      if (ec) {
        if (ec != net::error::operation_aborted && !stopping_) do_accept();
        return;
      }
      std::make_shared<HttpSession>(std::move(socket), *this)->run();
      do_accept();
    });
  }

  ServerOptions options_;
  Router router_;
  LogFn log_;
  net::io_context ioc_{1};
  net::executor_work_guard<net::io_context::executor_type> work_{ioc_.get_executor()};
  tcp::acceptor acceptor_;
  std::set<std::shared_ptr<WsSession>> sessions_;
  std::atomic<std::size_t> client_count_{0};
  std::uint64_t next_id_ = 0;
  std::uint16_t port_ = 0;
  bool stopping_ = false;
  std::thread thread_;
  std::mutex mutex_;
  std::condition_variable stopped_cv_;
  bool stopped_ = false;
};

// A request's header and body limits: the API takes small GETs; past these the client is told
// why (431, 413) rather than cut off.
constexpr std::uint32_t kMaxHeaderBytes = 16 * 1024;
constexpr std::uint64_t kMaxBodyBytes = 64 * 1024;

void HttpSession::do_read() {
  parser_.emplace();
  parser_->header_limit(kMaxHeaderBytes);
  parser_->body_limit(kMaxBodyBytes);
  stream_.expires_after(std::chrono::seconds(30));
  http::async_read(stream_, buffer_, *parser_,
                   [self = shared_from_this()](beast::error_code ec, std::size_t) { self->on_read(ec); });
}

void HttpSession::on_read(beast::error_code ec) {
  if (ec == http::error::header_limit) {
    write(json_response(431, R"({"error":"request headers larger than 16 KiB"})"), false);
    return;
  }
  if (ec == http::error::body_limit) {
    write(json_response(413, R"({"error":"request body larger than 64 KiB"})"), false);
    return;
  }
  if (ec) {
    beast::error_code ignored;
    stream_.socket().shutdown(tcp::socket::shutdown_both, ignored);
    return;
  }
  auto req = parser_->release();
  if (ws::is_upgrade(req)) {
    stream_.expires_never();
    auto self = shared_from_this();
    server_.handle_upgrade(stream_, std::move(req), [self](HttpResponse response) { self->write(std::move(response), false); });
    return;
  }
  const bool keep_alive = req.keep_alive();
  write(server_.route(to_request(req)), keep_alive);
}

void HttpSession::write(HttpResponse response, bool keep_alive) {
  auto res = std::make_shared<http::response<http::string_body>>(static_cast<http::status>(response.status), 11);
  res->set(http::field::server, "guardian");
  res->set(http::field::content_type, response.content_type);
  res->set(http::field::cache_control, "no-store");
  for (const auto& [name, value] : response.headers) res->set(name, value);
  res->keep_alive(keep_alive);
  res->body() = std::move(response.body);
  res->prepare_payload();
  stream_.expires_after(std::chrono::seconds(30));
  http::async_write(stream_, *res, [self = shared_from_this(), res, keep_alive](beast::error_code ec, std::size_t) {
    if (!ec && keep_alive) {
      self->do_read();
      return;
    }
    beast::error_code ignored;
    self->stream_.socket().shutdown(tcp::socket::shutdown_send, ignored);
    if (!ec) self->drain();
  });
}

// After the last answer: read and drop what the client is still sending until it closes (or
// 5 s pass). Closing with unread data makes the kernel send a reset, which can destroy the
// answer (431, 413) before the client reads it.
void HttpSession::drain() {
  stream_.expires_after(std::chrono::seconds(5));
  buffer_.consume(buffer_.size());
  stream_.async_read_some(buffer_.prepare(16 * 1024), [self = shared_from_this()](beast::error_code ec, std::size_t) {
    if (!ec) self->drain();
  });
}

void WsSession::start(http::request<http::string_body> request) {
  // Without TCP_NODELAY (Nagle: a small frame waits while earlier data is unacknowledged),
  // events written after each keep-alive ping reached the clients ~20 ms late (alerts_bench).
  beast::error_code nodelay_ec;
  beast::get_lowest_layer(ws_).socket().set_option(tcp::no_delay(true), nodelay_ec);
  ws::stream_base::timeout timeouts{};
  timeouts.handshake_timeout = std::chrono::seconds(10);
  timeouts.idle_timeout = std::chrono::milliseconds(server_.options().ping_interval_ms);
  timeouts.keep_alive_pings = true;  // ping when idle, drop when the peer stops answering
  ws_.set_option(timeouts);
  ws_.set_option(ws::stream_base::decorator([](ws::response_type& res) { res.set(http::field::server, "guardian"); }));
  ws_.read_message_max(64 * 1024);
  ws_.text(true);
  ws_.async_accept(request, [self = shared_from_this()](beast::error_code ec) { self->on_accept(ec); });
}

void WsSession::on_accept(beast::error_code ec) {
  if (ec) {
    finish();
    return;
  }
  open_ = true;
  do_read();
  if (closing_) {
    begin_close();
  } else if (!queue_.empty() && !writing_) {
    do_write();
  }
}

void WsSession::do_read() {
  ws_.async_read(buffer_, [self = shared_from_this()](beast::error_code ec, std::size_t) {
    if (ec) {
      self->finish();
      return;
    }
    self->buffer_.consume(self->buffer_.size());  // clients have nothing to say yet
    self->do_read();
  });
}

void WsSession::send(const std::shared_ptr<const std::string>& message) {
  if (finished_ || dropped_ || closing_) return;
  if (queue_.size() >= server_.options().max_queue_messages) {
    dropped_ = true;
    server_.log(GUARDIAN_LOG_WARNING, "dropped WebSocket client " + std::to_string(id_) + ": it stopped reading (" +
                                          std::to_string(queue_.size()) + " messages waiting)");
    hard_close();
    return;
  }
  queue_.push_back(message);
  if (open_ && !writing_) do_write();
}

void WsSession::do_write() {
  writing_ = true;
  ws_.async_write(net::buffer(*queue_.front()), [self = shared_from_this()](beast::error_code ec, std::size_t) {
    self->writing_ = false;
    if (ec) {
      self->hard_close();
      return;
    }
    self->queue_.pop_front();
    if (!self->queue_.empty()) {
      self->do_write();
    } else if (self->closing_) {
      self->do_close();
    }
  });
}

void WsSession::begin_close() {
  closing_ = true;
  if (!open_ || writing_) return;  // on_accept / the write in flight continue the close
  if (!queue_.empty()) {
    do_write();  // flush, then close
  } else {
    do_close();
  }
}

void WsSession::do_close() {
  if (close_sent_) return;
  close_sent_ = true;
  ws_.async_close(ws::close_code::going_away, [self = shared_from_this()](beast::error_code) {
    // The pending read completes with `closed` and finishes the session.
  });
}

void WsSession::finish() {
  if (finished_) return;
  finished_ = true;
  hard_close();
  server_.remove(shared_from_this());
}

}  // namespace

std::unique_ptr<Server> Server::start(const ServerOptions& options, Router router, LogFn log, std::string& error) {
  auto server = std::make_unique<ServerImpl>(options, std::move(router), std::move(log));
  if (!server->listen(error)) return nullptr;
  return server;
}

}  // namespace guardian::websocket
