#pragma once
// A health probe running on the event loop without ever blocking it: one HTTP GET, TCP
// connect or command per start(), answered once through a callback, bounded by a timeout.
#include <sys/types.h>

#include <boost/asio/io_context.hpp>
#include <chrono>
#include <filesystem>
#include <functional>
#include <memory>
#include <string>
#include <vector>

#include "guardian/health/probe_result.hpp"
#include "guardian/health/probe_target.hpp"

namespace guardian::health {

struct ProbeOptions {
  StatusSet healthy_statuses;  // HTTP
  // exec: probes: how to run the command and tell the rest of guardian about its process
  // (the orphan reaper must leave it alone while the probe waits for it).
  std::vector<std::string> environment;
  std::filesystem::path working_dir;
  std::function<void(pid_t)> process_started;
  std::function<void(pid_t)> process_ended;
};

class Probe {
 public:
  using Done = std::function<void(ProbeResult)>;
  virtual ~Probe() = default;
  /// Starts one probe. `done` runs later on the loop, exactly once, unless cancel() or the
  /// probe's destruction comes first. One probe at a time: a start() cancels the previous.
  virtual void start(std::chrono::milliseconds timeout, Done done) = 0;
  /// Abandons the probe in flight (its callback will not run).
  virtual void cancel() = 0;
};

std::unique_ptr<Probe> make_probe(boost::asio::io_context& io, const ProbeTarget& target, ProbeOptions options);

// Per kind (probe_http.cpp holds Beast; the others stay light to compile).
std::unique_ptr<Probe> make_http_probe(boost::asio::io_context& io, HttpTarget target, StatusSet healthy);
std::unique_ptr<Probe> make_tcp_probe(boost::asio::io_context& io, TcpTarget target);
std::unique_ptr<Probe> make_exec_probe(boost::asio::io_context& io, ExecTarget target, ProbeOptions options);

/// "timed out after 2s", for every kind.
std::string timed_out_detail(std::chrono::milliseconds timeout);

}  // namespace guardian::health
