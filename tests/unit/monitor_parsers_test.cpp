// Parsers and readers of the host figures, on files copied from a real Debian 12 machine
// (tests/unit/monitor_fixtures/proc) and on the running kernel itself.
#include <gtest/gtest.h>
#include <unistd.h>

#include <fstream>
#include <sstream>

#include "guardian/monitor/host_stats.hpp"
#include "guardian/monitor/sampler.hpp"

namespace {

using namespace guardian::monitor;
namespace fs = std::filesystem;

const fs::path kProc = fs::path(MONITOR_FIXTURE_DIR) / "proc";

std::string slurp(const fs::path& path) {
  std::ifstream in(path, std::ios::binary);
  std::stringstream s;
  s << in.rdbuf();
  return s.str();
}

TEST(ProcStatTest, AggregateCpuLine) {
  auto times = parse_proc_stat(slurp(kProc / "stat"));
  ASSERT_TRUE(times);
  // cpu  461745 59931 53804 233798 989 0 701 285 0 0
  EXPECT_EQ(times->total_ticks, 461745u + 59931 + 53804 + 233798 + 989 + 0 + 701 + 285);
  EXPECT_EQ(times->busy_ticks, 461745u + 59931 + 53804 + 0 + 701 + 285);
}

TEST(ProcStatTest, BusyPercentBetweenReadings) {
  CpuTimes a{100, 400};
  CpuTimes b{250, 600};
  EXPECT_DOUBLE_EQ(*cpu_busy_percent(a, b), 75.0);
  EXPECT_FALSE(cpu_busy_percent(b, b));
  EXPECT_FALSE(cpu_busy_percent(b, a));
}

TEST(ProcStatTest, RejectsOtherText) {
  EXPECT_FALSE(parse_proc_stat("intr 1 2 3\n"));
  EXPECT_FALSE(parse_proc_stat("cpu  1 2\n"));
  EXPECT_FALSE(parse_proc_stat(""));
}

TEST(MemInfoTest, TotalAndAvailable) {
  auto info = parse_meminfo(slurp(kProc / "meminfo"));
  ASSERT_TRUE(info);
  EXPECT_EQ(info->total_bytes, 24684084ull * 1024);
  EXPECT_EQ(info->available_bytes, 20287100ull * 1024);
  // Kernels before 3.14 have no MemAvailable.
  auto old = parse_meminfo("MemTotal:  1000 kB\nMemFree:  300 kB\nBuffers: 5 kB\n");
  ASSERT_TRUE(old);
  EXPECT_EQ(old->available_bytes, 300u * 1024);
  EXPECT_FALSE(parse_meminfo("Buffers: 5 kB\n"));
}

TEST(PressureTest, SomeAndFull) {
  auto cpu = parse_pressure(slurp(kProc / "pressure/cpu"));
  EXPECT_DOUBLE_EQ(*cpu.some_avg10, 98.66);
  EXPECT_DOUBLE_EQ(*cpu.full_avg10, 0.0);
  auto io = parse_pressure(slurp(kProc / "pressure/io"));
  EXPECT_DOUBLE_EQ(*io.some_avg10, 0.23);
  // Kernels before 5.13 print no "full" line for cpu.
  auto old = parse_pressure("some avg10=1.25 avg60=0.50 avg300=0.10 total=123\n");
  EXPECT_DOUBLE_EQ(*old.some_avg10, 1.25);
  EXPECT_FALSE(old.full_avg10);
}

TEST(ProcIoTest, StorageBytesNotCharacters) {
  auto io = parse_proc_io(slurp(kProc / "4242/io"));
  ASSERT_TRUE(io);
  EXPECT_EQ(io->read_bytes, 0u);  // rchar is 6976: the page cache, not the disk
  EXPECT_EQ(io->write_bytes, 0u);
  auto busy = parse_proc_io("rchar: 1\nwchar: 2\nsyscr: 3\nsyscw: 4\nread_bytes: 4096\nwrite_bytes: 8192\n"
                            "cancelled_write_bytes: 100\n");
  ASSERT_TRUE(busy);
  EXPECT_EQ(busy->read_bytes, 4096u);
  EXPECT_EQ(busy->write_bytes, 8192u);
}

TEST(HostReaderTest, ReadsAFixtureTree) {
  HostReader host(kProc);
  ASSERT_TRUE(host.cpu());
  EXPECT_EQ(host.memory()->total_bytes, 24684084ull * 1024);
  ASSERT_TRUE(host.pressure("memory"));
  EXPECT_FALSE(host.pressure("gpu"));
  EXPECT_EQ(host.process_name(4242), "sleep");
  EXPECT_EQ(host.command_line(4242), "sleep 30");
  ASSERT_TRUE(host.process_io(4242));
  EXPECT_FALSE(host.process_io(1));
  EXPECT_FALSE(host.open_fds(4242)) << "no fd directory in the fixture";
}

TEST(HostReaderTest, ReadsTheRunningKernel) {
  HostReader host;
  auto cpu = host.cpu();
  ASSERT_TRUE(cpu);
  EXPECT_GT(cpu->total_ticks, cpu->busy_ticks);
  auto memory = host.memory();
  ASSERT_TRUE(memory);
  EXPECT_GT(memory->total_bytes, memory->available_bytes);
  EXPECT_EQ(host.process_name(::getpid()), "monitor_unit_te");  // comm is cut at 15 characters
  // This process's own fds: stdin/out/err at least, and one more while a file is open.
  auto before = host.open_fds(::getpid());
  ASSERT_TRUE(before);
  std::ifstream extra("/proc/self/stat");
  EXPECT_EQ(*host.open_fds(::getpid()), *before + 1);
}

TEST(DiskUsageTest, MatchesStatvfsArithmetic) {
  std::error_code error;
  auto usage = disk_usage("/", error);
  ASSERT_TRUE(usage) << error.message();
  EXPECT_GT(usage->total_bytes, 0u);
  EXPECT_GE(usage->used_percent, 0.0);
  EXPECT_LE(usage->used_percent, 100.0);
  EXPECT_FALSE(disk_usage("/no/such/place", error));
  EXPECT_EQ(error.value(), ENOENT);
}

TEST(SamplerTest, RatesAgainstTheCeilingOrTheMachine) {
  guardian::limits::TreeUsage usage;
  usage.processes = 3;
  usage.threads = 5;
  usage.memory_bytes = 1u << 30;
  Sampler sampler([&usage] { return usage; }, SamplerOptions{{"/"}, kProc, 4.0, false});
  SteadyTime t0 = SteadyTime(std::chrono::hours(1));
  auto first = sampler.sample(t0, WallTime{}, Level::normal);
  EXPECT_FALSE(first.cpu_percent_of_core) << "no rate from one sample";
  EXPECT_EQ(first.ceiling_source, "machine");
  EXPECT_DOUBLE_EQ(first.cpu_ceiling_cores, 4.0);
  EXPECT_EQ(first.memory_ceiling_bytes, 24684084ull * 1024);  // the fixture's MemTotal
  EXPECT_EQ(first.processes, 3u);
  ASSERT_EQ(first.disks.size(), 1u);
  EXPECT_TRUE(first.psi_scope.empty());

  usage.cpu_usec += 3'000'000;  // 3 CPU-seconds in 2 seconds: 1.5 cores
  usage.cpu_ceiling_cores = 2.0;
  usage.memory_ceiling_bytes = 4ull << 30;
  usage.cpu_pressure = Pressure{12.5, 3.0};
  auto second = sampler.sample(t0 + std::chrono::seconds(2), WallTime{}, Level::normal);
  EXPECT_DOUBLE_EQ(*second.cpu_percent_of_core, 150.0);
  EXPECT_DOUBLE_EQ(*second.cpu_percent_of_ceiling, 75.0);
  EXPECT_EQ(second.ceiling_source, "limiter");
  EXPECT_DOUBLE_EQ(second.memory_percent_of_ceiling, 25.0);
  EXPECT_EQ(second.psi_scope, "tree");
  EXPECT_DOUBLE_EQ(*second.psi_cpu->some_avg10, 12.5);

  usage.cpu_usec -= 1'000'000;  // a process ended and took its CPU out of the live sum
  auto third = sampler.sample(t0 + std::chrono::seconds(3), WallTime{}, Level::normal);
  EXPECT_DOUBLE_EQ(*third.cpu_percent_of_core, 0.0);
}

}  // namespace
