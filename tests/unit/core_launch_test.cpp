// process::launch starts the command with vfork + execve: the child borrows guardian's
// address space until it execs, so a launch copies none of guardian's memory. With fork,
// every page guardian writes afterwards takes a copy-on-write fault (issue 17: these faults
// were a large part of a short run's cost on a paravirtualized machine). Also: a command
// that cannot start is its errno, with no child left behind.
#include <gtest/gtest.h>

#include <sys/mman.h>
#include <sys/resource.h>
#include <sys/wait.h>

#include <cerrno>
#include <cstring>

#include <boost/asio/io_context.hpp>

#include "guardian/process/launch.hpp"

namespace {

using guardian::process::launch;
using guardian::process::LaunchSpec;

long minor_faults() {
  rusage usage{};
  ::getrusage(RUSAGE_SELF, &usage);
  return usage.ru_minflt;
}

TEST(CoreLaunch, StartingACommandCopiesNoneOfTheSupervisorsMemory) {
  constexpr std::size_t kBytes = std::size_t{64} << 20;  // 16 384 pages of 4 KiB
  void* mapped = ::mmap(nullptr, kBytes, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
  ASSERT_NE(mapped, MAP_FAILED);
  ::madvise(mapped, kBytes, MADV_NOHUGEPAGE);  // one fault per 4 KiB page, whatever THP says
  auto* memory = static_cast<char*>(mapped);
  std::memset(memory, 1, kBytes);  // mapped and ours before the launch

  boost::asio::io_context io;
  LaunchSpec spec;
  spec.program = "/bin/true";
  spec.argv = {"true"};
  std::error_code error;
  const long before = minor_faults();
  auto child = launch(io, spec, error);
  ASSERT_FALSE(error) << error.message();
  std::memset(memory, 2, kBytes);  // with fork, each page is write-protected now: a fault each
  const long faults = minor_faults() - before;
  int status = 0;
  ASSERT_EQ(::waitpid(child.id(), &status, 0), child.id());
  EXPECT_TRUE(WIFEXITED(status) && WEXITSTATUS(status) == 0) << status;
  EXPECT_LT(faults, 1000) << "rewriting 16 384 pages after the launch faulted on " << faults;
  ::munmap(mapped, kBytes);
}

TEST(CoreLaunch, ACommandThatCannotStartIsItsErrnoAndLeavesNoChild) {
  boost::asio::io_context io;
  LaunchSpec spec;
  spec.program = "/nonexistent/command";
  spec.argv = {"command"};
  std::error_code error;
  auto child = launch(io, spec, error);
  EXPECT_EQ(error.value(), ENOENT) << error.message();
  errno = 0;
  EXPECT_EQ(::waitpid(-1, nullptr, WNOHANG), -1) << "a child was left to reap";
  EXPECT_EQ(errno, ECHILD);

  spec.program = "/bin/true";
  spec.working_dir = "/nonexistent/directory";
  launch(io, spec, error);
  EXPECT_EQ(error.value(), ENOENT) << "a working directory that does not exist: " << error.message();
  EXPECT_EQ(::waitpid(-1, nullptr, WNOHANG), -1);
}

}  // namespace
