#include <boost/asio/connect.hpp>
#include <boost/asio/ip/tcp.hpp>

#include "guardian/health/probe.hpp"
#include "guardian/health/probe_attempt.hpp"

namespace guardian::health {
namespace {

namespace asio = boost::asio;
using tcp = asio::ip::tcp;
using boost::system::error_code;

// One connect; healthy as soon as it is accepted. Owned by its pending handlers.
class TcpAttempt : public std::enable_shared_from_this<TcpAttempt> {
 public:
  TcpAttempt(asio::io_context& io, const TcpTarget& target, Probe::Done done)
      : resolver_(io), socket_(io), deadline_(io, std::move(done)), target_(target) {}

  void run(std::chrono::milliseconds timeout) {
    deadline_.start_clock();
    deadline_.arm_timeout(timeout,
                          [self = shared_from_this()](std::string detail) { self->finish(false, std::move(detail)); });
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
    deadline_.abandon();
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
    ProbeResult result;
    result.ok = ok;
    result.detail = std::move(detail);
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
  TcpTarget target_;
};

}  // namespace

std::unique_ptr<Probe> make_tcp_probe(asio::io_context& io, TcpTarget target) {
  return std::make_unique<AttemptProbe<TcpAttempt>>([&io, target = std::move(target)](Probe::Done done) {
    return std::make_shared<TcpAttempt>(io, target, std::move(done));
  });
}

}  // namespace guardian::health
