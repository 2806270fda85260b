// The HTTP probe: the only translation unit of the core that includes Beast (slow to
// compile), so keep it small.
#include <boost/asio/connect.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/beast/core/flat_buffer.hpp>
#include <boost/beast/http.hpp>
#include <fmt/format.h>

#include "guardian/health/probe.hpp"
#include "guardian/health/probe_attempt.hpp"

namespace guardian::health {
namespace {

namespace asio = boost::asio;
namespace http = boost::beast::http;
using tcp = asio::ip::tcp;
using boost::system::error_code;

std::string failure_text(const error_code& error) {
  if (error == http::error::end_of_stream || error == asio::error::eof || error == asio::error::connection_reset)
    return "the server closed the connection without answering";
  if (error == asio::error::connection_refused) return "connection refused";
  return error.message();
}

// One GET: resolve (unless the host is an address), connect, send, read the status line
// and headers. Owned by its pending handlers; the probe only keeps a handle to abandon it.
class HttpAttempt : public std::enable_shared_from_this<HttpAttempt> {
 public:
  HttpAttempt(asio::io_context& io, const HttpTarget& target, const StatusSet& healthy, Probe::Done done)
      : resolver_(io), socket_(io), deadline_(io, std::move(done)), target_(target), healthy_(healthy) {}

  void run(std::chrono::milliseconds timeout) {
    deadline_.start_clock();
    deadline_.arm_timeout(timeout, [self = shared_from_this()](std::string detail) { self->fail(std::move(detail)); });
    error_code not_an_address;
    auto address = asio::ip::make_address(target_.host, not_an_address);
    if (!not_an_address) {
      connect(std::vector<tcp::endpoint>{tcp::endpoint(address, target_.port)});
      return;
    }
    resolver_.async_resolve(target_.host, std::to_string(target_.port),
                            [self = shared_from_this()](const error_code& error, tcp::resolver::results_type found) {
                              if (error) return self->fail("cannot resolve '" + self->target_.host + "': " + error.message());
                              self->connect(found);
                            });
  }

  void abandon() {
    deadline_.abandon();
    close();
  }

 private:
  template <typename Endpoints>
  void connect(const Endpoints& endpoints) {
    asio::async_connect(socket_, endpoints, [self = shared_from_this()](const error_code& error, const tcp::endpoint&) {
      if (error) return self->fail(failure_text(error));
      self->send();
    });
  }

  void send() {
    request_.method(http::verb::get);
    request_.target(target_.path);
    request_.version(11);
    request_.set(http::field::host, fmt::format("{}:{}", target_.host, target_.port));
    request_.set(http::field::user_agent, "guardian-health/" GUARDIAN_VERSION);
    request_.set(http::field::connection, "close");
    http::async_write(socket_, request_, [self = shared_from_this()](const error_code& error, std::size_t) {
      if (error) return self->fail(failure_text(error));
      self->receive();
    });
  }

  void receive() {
    parser_.body_limit(64 * 1024);
    // The status is in the head: a health check need not wait for the body.
    http::async_read_header(socket_, buffer_, parser_, [self = shared_from_this()](const error_code& error, std::size_t) {
      if (error) return self->fail(failure_text(error));
      int status = self->parser_.get().result_int();
      ProbeResult result;
      result.http_status = status;
      result.ok = self->healthy_.contains(status);
      result.detail = fmt::format("HTTP {}", status);
      self->finish(std::move(result));
    });
  }

  void fail(std::string detail) {
    ProbeResult result;
    result.detail = std::move(detail);
    finish(std::move(result));
  }

  void finish(ProbeResult result) {
    auto done = deadline_.take(result);
    if (!done) return;
    close();
    done(std::move(result));
  }

  void close() {
    resolver_.cancel();
    error_code ignored;
    socket_.close(ignored);
  }

  tcp::resolver resolver_;
  tcp::socket socket_;
  ProbeDeadline deadline_;
  HttpTarget target_;
  StatusSet healthy_;
  http::request<http::empty_body> request_;
  boost::beast::flat_buffer buffer_;
  http::response_parser<http::string_body> parser_;
};

}  // namespace

std::unique_ptr<Probe> make_http_probe(asio::io_context& io, HttpTarget target, StatusSet healthy) {
  return std::make_unique<AttemptProbe<HttpAttempt>>(
      [&io, target = std::move(target), healthy = std::move(healthy)](Probe::Done done) {
        return std::make_shared<HttpAttempt>(io, target, healthy, std::move(done));
      });
}

}  // namespace guardian::health
