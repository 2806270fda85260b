// Exit-code mapping and signal names: the codes guardian passes on are the contract.
#include <gtest/gtest.h>
#include <sys/wait.h>

#include <csignal>

#include "guardian/process/exit_status.hpp"

using namespace guardian::process;

TEST(ExitStatus, NormalExitPassesTheCodeThrough) {
  for (int code : {0, 1, 42, 255}) {
    auto status = ExitStatus::from_wait_status(W_EXITCODE(code, 0));
    EXPECT_EQ(status.kind, ExitStatus::Kind::exited);
    EXPECT_EQ(status.shell_code(), code);
  }
}

TEST(ExitStatus, DeathBySignalIs128PlusN) {
  for (int signo : {SIGHUP, SIGINT, SIGKILL, SIGSEGV, SIGTERM, SIGUSR2}) {
    auto status = ExitStatus::from_wait_status(W_EXITCODE(0, signo));
    EXPECT_EQ(status.kind, ExitStatus::Kind::signaled);
    EXPECT_EQ(status.signal, signo);
    EXPECT_EQ(status.shell_code(), 128 + signo);
  }
}

TEST(ExitStatus, ExitNineIsNotSigkill) {
  // Boost.Process v2's exit_code() says 9 for both; guardian must not.
  EXPECT_EQ(ExitStatus::from_wait_status(W_EXITCODE(9, 0)).shell_code(), 9);
  EXPECT_EQ(ExitStatus::from_wait_status(W_EXITCODE(0, SIGKILL)).shell_code(), 137);
}

TEST(ExitStatus, DescribesForHumans) {
  EXPECT_EQ(ExitStatus::from_wait_status(W_EXITCODE(3, 0)).describe(), "exited with 3");
  EXPECT_EQ(ExitStatus::from_wait_status(W_EXITCODE(0, SIGKILL)).describe(), "killed by SIGKILL");
  EXPECT_EQ(ExitStatus::from_wait_status(W_EXITCODE(0, SIGSEGV) | WCOREFLAG).describe(),
            "killed by SIGSEGV (core dumped)");
}

TEST(SignalNames, BothWays) {
  EXPECT_EQ(signal_name(SIGTERM), "SIGTERM");
  EXPECT_EQ(signal_number("SIGUSR1"), SIGUSR1);
  EXPECT_EQ(signal_number("INT"), SIGINT);
  EXPECT_EQ(signal_number("9"), SIGKILL);
  EXPECT_FALSE(signal_number("SIGNOPE").has_value());
}

TEST(ExitCodes, MatchTheDocumentedTable) {
  EXPECT_EQ(exit_code::timed_out, 124);
  EXPECT_EQ(exit_code::guardian_failed, 125);
  EXPECT_EQ(exit_code::not_executable, 126);
  EXPECT_EQ(exit_code::not_found, 127);
}
