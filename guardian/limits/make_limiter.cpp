#include "guardian/limits/make_limiter.hpp"

#include "guardian/limits/process_tree_limiter.hpp"

namespace guardian::limits {

std::unique_ptr<Limiter> make_limiter(LimiterRequest request) {
  return std::make_unique<ProcessTreeLimiter>(request.executor, std::move(request.membership),
                                              "cgroup v2 ceilings are not enabled in this build");
}

}  // namespace guardian::limits
