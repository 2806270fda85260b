#include "guardian/health/probe.hpp"

#include "guardian/config/quantity.hpp"

namespace guardian::health {

std::unique_ptr<Probe> make_probe(boost::asio::io_context& io, const ProbeTarget& target, ProbeOptions options) {
  if (auto* http = std::get_if<HttpTarget>(&target)) return make_http_probe(io, *http, options.healthy_statuses);
  if (auto* tcp = std::get_if<TcpTarget>(&target)) return make_tcp_probe(io, *tcp);
  return make_exec_probe(io, std::get<ExecTarget>(target), std::move(options));
}

std::string timed_out_detail(std::chrono::milliseconds timeout) {
  return "timed out after " + config::format_duration(timeout);
}

}  // namespace guardian::health
