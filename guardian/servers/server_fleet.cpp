#include "guardian/servers/server_fleet.hpp"

#include <boost/asio/post.hpp>
#include <boost/asio/signal_set.hpp>
#include <csignal>

namespace guardian::servers {

ServerFleet::ServerFleet(context::RunContext& context, std::vector<ServerSpec> specs, ServerHooks hooks)
    : context_(context) {
  for (auto& spec : specs)
    servers_.push_back(std::make_unique<ServerSupervisor>(context, std::move(spec), hooks, [this] { changed(); }));
  gave_up_reported_.assign(servers_.size(), false);
}

ServerFleet::~ServerFleet() { *alive_ = false; }

void ServerFleet::start() {
  started_ = true;
  for (auto& server : servers_) server->start();
}

// Servers report after every step; the fleet looks at them once that step is over.
void ServerFleet::changed() {
  if (evaluation_posted_) return;
  evaluation_posted_ = true;
  boost::asio::post(context_.io, [this, alive = std::weak_ptr<bool>(alive_)] {
    if (alive.expired()) return;
    evaluation_posted_ = false;
    evaluate();
  });
}

void ServerFleet::evaluate() {
  for (std::size_t i = 0; i < servers_.size(); ++i) {
    if (servers_[i]->has_given_up() && !gave_up_reported_[i]) {
      gave_up_reported_[i] = true;
      if (on_gave_up_) on_gave_up_(*servers_[i]);
    }
  }
  if (started_ && !settled_reported_ && all_settled()) {
    settled_reported_ = true;
    if (on_all_settled_) on_all_settled_();
  }
}

ServerFleet::Readiness ServerFleet::run_until_ready(int& signal_number) {
  boost::asio::signal_set signals(context_.io, SIGINT, SIGTERM, SIGHUP);
  int received = 0;
  signals.async_wait([&received](const boost::system::error_code& error, int signo) {
    if (!error) received = signo;
  });
  Readiness outcome = Readiness::failed;
  while (true) {
    if (received) {
      signal_number = received;
      outcome = Readiness::interrupted;
      break;
    }
    if (given_up()) break;
    bool all_healthy = true;
    for (const auto& server : servers_) all_healthy = all_healthy && server->is_healthy();
    if (all_healthy) {
      outcome = Readiness::ready;
      break;
    }
    if (context_.io.run_one() == 0) break;  // nothing left to wait for: cannot become ready
  }
  boost::system::error_code ignored;
  signals.cancel(ignored);
  // Let the cancelled wait complete now, while `received` still exists.
  context_.io.poll();
  return outcome;
}

void ServerFleet::stop() {
  stop_requested_ = true;
  for (auto& server : servers_) server->stop();
}

void ServerFleet::kill_now() {
  for (auto& server : servers_) server->kill_now();
}

void ServerFleet::run_until_settled() {
  if (all_settled()) return;
  if (!stop_requested_) stop();
  context_.io.restart();
  boost::asio::signal_set signals(context_.io, SIGINT, SIGTERM, SIGHUP);
  signals.async_wait([this](const boost::system::error_code& error, int) {
    if (!error) kill_now();  // a second Ctrl-C while servers stop: no more waiting
  });
  while (!all_settled() && context_.io.run_one() > 0) {
  }
  boost::system::error_code ignored;
  signals.cancel(ignored);
  context_.io.poll();
}

bool ServerFleet::all_settled() const {
  for (const auto& server : servers_)
    if (!server->is_settled()) return false;
  return true;
}

std::vector<pid_t> ServerFleet::root_pids() const {
  std::vector<pid_t> pids;
  for (const auto& server : servers_)
    if (auto pid = server->root_pid()) pids.push_back(*pid);
  return pids;
}

void ServerFleet::set_probe_interval(std::chrono::milliseconds interval) {
  for (auto& server : servers_) server->set_probe_interval(interval);
}

const ServerSupervisor* ServerFleet::given_up() const {
  for (const auto& server : servers_)
    if (server->has_given_up()) return server.get();
  return nullptr;
}

nlohmann::json ServerFleet::report() const {
  nlohmann::json out = nlohmann::json::object();
  for (const auto& server : servers_) out[server->name()] = server->report();
  return out;
}

}  // namespace guardian::servers
