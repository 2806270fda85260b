#include <fcntl.h>
#include <sys/wait.h>
#include <unistd.h>

#include <csignal>
#include <fmt/format.h>
#include <optional>

#include "guardian/health/probe.hpp"
#include "guardian/health/probe_attempt.hpp"
#include "guardian/process/exit_status.hpp"
#include "guardian/process/launch.hpp"
#include "guardian/process/unique_fd.hpp"

namespace guardian::health {
namespace {

namespace asio = boost::asio;
using boost::system::error_code;

// One run of the command (/bin/sh -c, its own process group, output to /dev/null);
// healthy when it exits 0. On timeout or abandonment its group is SIGKILLed and still
// waited for, so nothing is left behind.
class ExecAttempt : public std::enable_shared_from_this<ExecAttempt> {
 public:
  ExecAttempt(asio::io_context& io, const ExecTarget& target, const ProbeOptions& options, Probe::Done done)
      : io_(io), deadline_(io, std::move(done)), target_(target), options_(options) {}
  ~ExecAttempt() {
    if (process_) process_->detach();
  }

  void run(std::chrono::milliseconds timeout) {
    deadline_.start_clock();
    process::UniqueFd null_fd(::open("/dev/null", O_RDWR | O_CLOEXEC));
    process::LaunchSpec spec;
    spec.program = "/bin/sh";
    spec.argv = {"sh", "-c", target_.command};
    spec.environment = options_.environment;
    spec.working_dir = options_.working_dir;
    spec.stdin_fd = spec.stdout_fd = spec.stderr_fd = null_fd.get();
    std::error_code error;
    auto child = process::launch(io_, spec, error);
    if (error) return finish(false, "cannot run /bin/sh: " + error.message());
    pid_ = child.id();
    process_.emplace(std::move(child));
    if (options_.process_started) options_.process_started(pid_);
    deadline_.arm_timeout(timeout, [self = shared_from_this()](std::string detail) {
      self->kill_group();
      self->finish(false, std::move(detail));
    });
    process_->async_wait([self = shared_from_this()](const error_code& wait_error, int) {
      self->ended(wait_error);
    });
  }

  void abandon() {
    deadline_.abandon();
    deadline_.cancel_timeout();
    kill_group();
  }

 private:
  void ended(const error_code& wait_error) {
    if (options_.process_ended) options_.process_ended(pid_);
    pid_ = -1;  // reaped: the pid may be reused, never signal it again
    if (wait_error) return finish(false, "cannot wait for the command: " + wait_error.message());
    auto status = process::ExitStatus::from_wait_status(process_->native_exit_code());
    bool ok = status.kind == process::ExitStatus::Kind::exited && status.code == 0;
    finish(ok, status.kind == process::ExitStatus::Kind::exited ? fmt::format("exit {}", status.code)
                                                                 : status.describe());
  }

  void kill_group() {
    if (pid_ > 0) ::kill(-pid_, SIGKILL);
  }

  void finish(bool ok, std::string detail) {
    ProbeResult result;
    result.ok = ok;
    result.detail = std::move(detail);
    if (auto done = deadline_.take(result)) done(std::move(result));
  }

  asio::io_context& io_;
  ProbeDeadline deadline_;
  ExecTarget target_;
  ProbeOptions options_;
  std::optional<process::Process> process_;
  pid_t pid_ = -1;
};

}  // namespace

std::unique_ptr<Probe> make_exec_probe(asio::io_context& io, ExecTarget target, ProbeOptions options) {
  return std::make_unique<AttemptProbe<ExecAttempt>>(
      [&io, target = std::move(target), options = std::move(options)](Probe::Done done) {
        return std::make_shared<ExecAttempt>(io, target, options, std::move(done));
      });
}

}  // namespace guardian::health
