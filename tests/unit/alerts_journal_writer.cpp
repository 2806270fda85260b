// alerts_journal_writer RUN_DIR: raises distinct, large alerts through a real AlertBus as
// fast as it can, forever; alerts_journal_test SIGKILLs it mid-burst.
#include <cstdio>
#include <string>

#include "guardian/alerts/alert_bus.hpp"

int main(int argc, char** argv) {
  if (argc != 2) {
    std::fprintf(stderr, "usage: alerts_journal_writer RUN_DIR\n");
    return 2;
  }
  guardian::alerts::AlertBusOptions options;
  options.run_dir = argv[1];
  options.run_id = "kill-test";
  guardian::alerts::AlertBus bus(options);
  if (!bus.journal_problem().empty()) {
    std::fprintf(stderr, "%s\n", bus.journal_problem().c_str());
    return 1;
  }
  for (long i = 0;; ++i) {
    // 1-3.5 KB lines: most records would straddle a page boundary, where a kill could tear them.
    const std::size_t length = 1000 + static_cast<std::size_t>(i * 787 % 2500);
    guardian::alerts::AlertSpec spec;
    spec.type = guardian::alerts::AlertType::test_failed;
    spec.subject = "test_" + std::to_string(i);  // distinct keys: nothing is rate-limited
    spec.title = "test failed";
    spec.message = std::string(length, 'x');
    spec.context = {{"message_bytes", length}};
    bus.raise(spec);
  }
}
