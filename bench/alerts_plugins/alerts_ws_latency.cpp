// alerts_ws_latency: N WebSocket clients in one process on one io_context thread, the C++
// counterpart of alerts_ws_latency.py (same arguments, same output) whose own CPU cost is
// small enough not to be what the benchmark measures. Each event carries "sent_ns"
// (CLOCK_REALTIME when guardian published it); once COUNT such events arrived at every
// client, prints one JSON array with every latency in ms.
//
// usage: alerts_ws_latency ws://HOST:PORT/PATH N COUNT READY_FILE
#include <charconv>
#include <chrono>
#include <cstdint>
#include <cstdio>
#include <ctime>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include <boost/asio.hpp>
#include <boost/beast/core.hpp>
#include <boost/beast/websocket.hpp>
#include <fmt/format.h>

namespace {

namespace beast = boost::beast;
namespace ws = beast::websocket;
namespace net = boost::asio;
using tcp = net::ip::tcp;

std::int64_t realtime_ns() {
  timespec ts{};
  ::clock_gettime(CLOCK_REALTIME, &ts);
  return static_cast<std::int64_t>(ts.tv_sec) * 1'000'000'000 + ts.tv_nsec;
}

// The value of the top-level "sent_ns" field, found by text: the bench's events are written
// by nlohmann/json (no spaces, no other field that contains "sent_ns"), and parsing the
// whole message as JSON would put the client's CPU time back into the numbers.
std::optional<std::int64_t> sent_ns_of(std::string_view text) {
  constexpr std::string_view key = "\"sent_ns\":";
  const auto at = text.find(key);
  if (at == std::string_view::npos) return std::nullopt;
  const char* first = text.data() + at + key.size();
  const char* last = text.data() + text.size();
  std::int64_t value = 0;
  const auto [end, ec] = std::from_chars(first, last, value);
  if (ec != std::errc{} || end == first) return std::nullopt;
  return value;
}

struct Url {
  std::string host;
  std::uint16_t port = 0;
  std::string target;
};

std::optional<Url> parse_url(std::string_view text) {
  constexpr std::string_view scheme = "ws://";
  if (text.substr(0, scheme.size()) != scheme) return std::nullopt;
  text.remove_prefix(scheme.size());
  const auto slash = text.find('/');
  const auto authority = text.substr(0, slash);
  const auto colon = authority.rfind(':');
  if (colon == std::string_view::npos) return std::nullopt;
  Url url;
  url.host = std::string(authority.substr(0, colon));
  unsigned port = 0;
  const auto port_text = authority.substr(colon + 1);
  const auto [end, ec] = std::from_chars(port_text.data(), port_text.data() + port_text.size(), port);
  if (ec != std::errc{} || end != port_text.data() + port_text.size() || port == 0 || port > 65535) return std::nullopt;
  url.port = static_cast<std::uint16_t>(port);
  url.target = slash == std::string_view::npos ? std::string("/") : std::string(text.substr(slash));
  return url;
}

class Run;

// One connection: connect, handshake, then read messages into one reused buffer until
// COUNT timed events arrived, then close.
class Client {
 public:
  Client(net::io_context& ioc, Run& run) : ws_(ioc), run_(run) {}
  void start(const tcp::endpoint& endpoint, const std::string& host, const std::string& target);
  void cut() {
    beast::error_code ignored;
    beast::get_lowest_layer(ws_).socket().close(ignored);
  }

 private:
  void read();
  void on_read(beast::error_code ec);
  void done(bool ok);

  ws::stream<beast::tcp_stream> ws_;
  Run& run_;
  beast::flat_buffer buffer_;
  long received_ = 0;
  bool done_ = false;
};

// Every client of the process, the shared latency record and the ready file.
class Run {
 public:
  Run(net::io_context& ioc, long clients, long count, std::string ready_path)
      : ioc_(ioc), clients_wanted_(clients), count_(count), ready_path_(std::move(ready_path)), deadline_(ioc) {
    latencies_ns_.reserve(static_cast<std::size_t>(clients * count));
  }

  void start(const Url& url, std::chrono::seconds limit) {
    const tcp::endpoint endpoint(net::ip::make_address(url.host), url.port);
    const std::string host = url.host + ":" + std::to_string(url.port);
    for (long i = 0; i < clients_wanted_; ++i) clients_.push_back(std::make_unique<Client>(ioc_, *this));
    for (auto& client : clients_) client->start(endpoint, host, url.target);
    deadline_.expires_after(limit);
    deadline_.async_wait([this](beast::error_code ec) {
      if (ec) return;  // cancelled: every client finished
      std::fprintf(stderr, "alerts_ws_latency: gave up after the deadline (%zu latencies so far)\n",
                   latencies_ns_.size());
      failed_ = true;
      for (auto& client : clients_) client->cut();
    });
  }

  long count() const { return count_; }
  void record(std::int64_t latency_ns) { latencies_ns_.push_back(latency_ns); }

  void connected() {
    if (++connected_ != clients_wanted_) return;
    if (std::FILE* f = std::fopen(ready_path_.c_str(), "w")) std::fclose(f);
  }

  void finished(bool ok) {
    if (!ok) failed_ = true;
    if (++finished_ == clients_wanted_) deadline_.cancel();
  }

  bool failed() const { return failed_; }
  const std::vector<std::int64_t>& latencies_ns() const { return latencies_ns_; }

 private:
  net::io_context& ioc_;
  long clients_wanted_;
  long count_;
  std::string ready_path_;
  net::steady_timer deadline_;
  std::vector<std::unique_ptr<Client>> clients_;
  std::vector<std::int64_t> latencies_ns_;
  long connected_ = 0;
  long finished_ = 0;
  bool failed_ = false;
};

void Client::start(const tcp::endpoint& endpoint, const std::string& host, const std::string& target) {
  ws::stream_base::timeout timeouts{};
  timeouts.handshake_timeout = std::chrono::seconds(10);  // opening and closing handshakes
  timeouts.idle_timeout = ws::stream_base::none();        // the server pings; Beast answers while reading
  timeouts.keep_alive_pings = false;
  ws_.set_option(timeouts);
  ws_.read_message_max(1024 * 1024);
  beast::get_lowest_layer(ws_).async_connect(endpoint, [this, host, target](beast::error_code ec) {
    if (ec) {
      std::fprintf(stderr, "alerts_ws_latency: connect: %s\n", ec.message().c_str());
      done(false);
      return;
    }
    beast::get_lowest_layer(ws_).socket().set_option(tcp::no_delay(true));
    ws_.async_handshake(host, target, [this](beast::error_code hec) {
      if (hec) {
        std::fprintf(stderr, "alerts_ws_latency: handshake: %s\n", hec.message().c_str());
        done(false);
        return;
      }
      run_.connected();
      read();
    });
  });
}

void Client::read() {
  ws_.async_read(buffer_, [this](beast::error_code ec, std::size_t) { on_read(ec); });
}

void Client::on_read(beast::error_code ec) {
  const std::int64_t now_ns = realtime_ns();  // first thing: the receipt time
  if (ec) {
    std::fprintf(stderr, "alerts_ws_latency: read after %ld events: %s\n", received_, ec.message().c_str());
    done(false);
    return;
  }
  const auto data = buffer_.cdata();
  if (const auto sent_ns = sent_ns_of(std::string_view(static_cast<const char*>(data.data()), data.size()))) {
    run_.record(now_ns - *sent_ns);
    ++received_;
  }
  buffer_.consume(buffer_.size());  // keeps the storage: no allocation per message
  if (received_ >= run_.count()) {
    ws_.async_close(ws::close_code::normal, [this](beast::error_code) { done(true); });
    return;
  }
  read();
}

void Client::done(bool ok) {
  if (done_) return;
  done_ = true;
  run_.finished(ok);
}

}  // namespace

int main(int argc, char** argv) {
  if (argc != 5) {
    std::fprintf(stderr, "usage: alerts_ws_latency ws://HOST:PORT/PATH N COUNT READY_FILE\n");
    return 2;
  }
  const auto url = parse_url(argv[1]);
  const long clients = std::atol(argv[2]);
  const long count = std::atol(argv[3]);
  if (!url || clients <= 0 || count <= 0) {
    std::fprintf(stderr, "alerts_ws_latency: expected ws://HOST:PORT/PATH, N > 0 and COUNT > 0\n");
    return 2;
  }
  net::io_context ioc(1);
  Run run(ioc, clients, count, argv[4]);
  try {
    run.start(*url, std::chrono::seconds(300));
  } catch (const std::exception& e) {
    std::fprintf(stderr, "alerts_ws_latency: %s\n", e.what());
    return 1;
  }
  ioc.run();
  if (run.failed()) return 1;
  std::string out = "[";
  for (const auto latency_ns : run.latencies_ns()) {
    fmt::format_to(std::back_inserter(out), "{}{:.4f}", out.size() > 1 ? "," : "", static_cast<double>(latency_ns) / 1e6);
  }
  out += "]\n";
  std::fwrite(out.data(), 1, out.size(), stdout);
  return 0;
}
