#include <boost/asio/connect.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/steady_timer.hpp>

#include "guardian/health/probe.hpp"

namespace guardian::health {
namespace {

namespace asio = boost::asio;
using tcp = asio::ip::tcp;
using boost::system::error_code;
using Clock = std::chrono::steady_clock;

// One connect; healthy as soon as it is accepted. Owned by its pending handlers.
class TcpAttempt : public std::enable_shared_from_this<TcpAttempt> {
 public:
  TcpAttempt(asio::io_context& io, const TcpTarget& target, Probe::Done done)
      : resolver_(io), socket_(io), timer_(io), target_(target), done_(std::move(done)) {}

  void run(std::chrono::milliseconds timeout) {
    started_ = Clock::now();
    timer_.expires_after(timeout);
    timer_.async_wait([self = shared_from_this(), timeout](const error_code& error) {
      if (!error) self->finish(false, timed_out_detail(timeout));
    });
    error_code not_an_address;
    auto address = asio::ip::make_address(target_.host, not_an_address);
    if (!not_an_address) {
      connect(std::vector<tcp::endpoint>{tcp::endpoint(address, target_.port)});
      return;
    }
    resolver_.async_resolve(target_.host, std::to_string(target_.port),
                            [self = shared_from_this()](const error_code& error, tcp::resolver::results_type found) {
                              if (error) return self->finish(false, "cannot resolve '" + self->target_.host + "': " + error.message());
                              self->connect(found);
                            });
  }

  void abandon() {
    done_ = nullptr;
    close();
  }

 private:
  template <typename Endpoints>
  void connect(const Endpoints& endpoints) {
    asio::async_connect(socket_, endpoints, [self = shared_from_this()](const error_code& error, const tcp::endpoint&) {
      if (error == asio::error::connection_refused) return self->finish(false, "connection refused");
      if (error) return self->finish(false, error.message());
      self->finish(true, "connected");
    });
  }

  void finish(bool ok, std::string detail) {
    if (!done_) return;
    auto done = std::move(done_);
    done_ = nullptr;
    ProbeResult result;
    result.ok = ok;
    result.detail = std::move(detail);
    result.latency = std::chrono::duration_cast<std::chrono::milliseconds>(Clock::now() - started_);
    timer_.cancel();
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
  asio::steady_timer timer_;
  TcpTarget target_;
  Probe::Done done_;
  Clock::time_point started_{};
};

class TcpProbe : public Probe {
 public:
  TcpProbe(asio::io_context& io, TcpTarget target) : io_(io), target_(std::move(target)) {}
  ~TcpProbe() override { cancel(); }

  void start(std::chrono::milliseconds timeout, Done done) override {
    cancel();
    current_ = std::make_shared<TcpAttempt>(io_, target_, std::move(done));
    current_->run(timeout);
  }

  void cancel() override {
    if (current_) current_->abandon();
    current_.reset();
  }

 private:
  asio::io_context& io_;
  TcpTarget target_;
  std::shared_ptr<TcpAttempt> current_;
};

}  // namespace

std::unique_ptr<Probe> make_tcp_probe(asio::io_context& io, TcpTarget target) {
  return std::make_unique<TcpProbe>(io, std::move(target));
}

}  // namespace guardian::health
