#pragma once
// The one place that chooses how a supervised command is held: cgroup v2 when the
// machine allows it, else the /proc watchdog, else (--no-limits) none.
#include <boost/asio/any_io_executor.hpp>
#include <functional>
#include <memory>
#include <string>

#include "guardian/config/config.hpp"
#include "guardian/limits/limiter.hpp"
#include "guardian/limits/run_cgroups.hpp"
#include "guardian/process/tree_membership.hpp"

namespace guardian::limits {

struct LimiterRequest {
  const config::Config& config;        // mode and ceilings
  boost::asio::any_io_executor executor;
  process::TreeMembership membership;  // how to find the tree through /proc
  std::string unit_name;               // "main", or a server's name
  std::function<void(const std::string& event, const std::string& message)> warn;  // loud fallbacks
  // The run's cgroups, shared by every unit of the session (the session's); null: this
  // limiter gets a tree of its own.
  RunCgroups* run_cgroups = nullptr;
};

std::unique_ptr<Limiter> make_limiter(LimiterRequest request);

}  // namespace guardian::limits
