// guardian on a real systemd machine: boots the Debian 12 systemd VM (tests/vm/systemd) once,
// runs systemd_scenarios.sh there — guardian as a normal user in a user service, a terminal-like
// scope, alone in a scope, a Delegate=yes scope, a PAM login session, without a user bus, and
// as root in a system service — and checks that the kernel ceilings hold in each, and that
// `guardian doctor` predicts what `guardian run` does. Fails (does not skip) when the VM cannot
// be built or booted.
#include <gtest/gtest.h>

#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <map>
#include <string>

#include "vm_sections.hpp"

namespace {

using Json = nlohmann::json;
using guardian::testing::Section;
namespace fs = std::filesystem;

// The situations in which a user (and root) runs guardian; their names in the scenario script.
const char* const kSituations[] = {"root_service",   "user_service",  "terminal_scope", "alone_scope",
                                   "delegate_scope", "login_session"};

// What the one boot printed, shared by every test.
std::string raw_;
int vm_status_ = -1;
std::map<std::string, Section> sections_;

const Section& section(const std::string& name) {
  static const Section empty;
  auto it = sections_.find(name);
  if (it == sections_.end()) {
    ADD_FAILURE() << "the VM did not run '" << name << "'; its output:\n" << raw_;
    return empty;
  }
  return it->second;
}

class SystemdVm : public ::testing::Test {
 protected:
  static void SetUpTestSuite() {
    // The payload: guardian, its test helper, the scenarios and the `main` the VM runs.
    fs::path payload = fs::temp_directory_path() / ("systemd-vm-payload." + std::to_string(::getpid()));
    fs::remove_all(payload);
    fs::create_directories(payload);
    // An install's layout: bin/guardian finds ../libexec/guardian/guardian-sentinel.
    fs::create_directories(payload / "bin");
    fs::create_directories(payload / "libexec" / "guardian");
    fs::copy_file(GUARDIAN_BIN, payload / "bin" / "guardian");
    fs::copy_file(GUARDIAN_SENTINEL_BIN, payload / "libexec" / "guardian" / "guardian-sentinel");
    fs::create_symlink("bin/guardian", payload / "guardian");
    fs::copy_file(GUARDIAN_TARGET_BIN, payload / "guardian-target");
    fs::copy_file(SCENARIOS, payload / "scenarios.sh");
    std::ofstream(payload / "main") << "exec /bin/sh ./scenarios.sh /opt/guardian-test\n";
    const std::string command = std::string(VM_SYSTEMD) + " --timeout 900 " + payload.string() + " 2>&1";
    FILE* pipe = ::popen(command.c_str(), "r");
    ASSERT_NE(pipe, nullptr) << "cannot start " << command;
    char buffer[4096];
    std::size_t n;
    while ((n = std::fread(buffer, 1, sizeof buffer, pipe)) > 0) raw_.append(buffer, n);
    vm_status_ = ::pclose(pipe);
    fs::remove_all(payload);
    sections_ = guardian::testing::parse_sections(raw_);
    ASSERT_TRUE(WIFEXITED(vm_status_) && WEXITSTATUS(vm_status_) == 0)
        << "the systemd VM failed (status " << vm_status_ << "); its output:\n"
        << raw_;
  }

};

std::string describe(const std::string& name, const Section& s) {
  return name + ": exit " + s.trimmed("exit") + ", " + s.trimmed("wall_seconds") + " s\n--- output:\n" +
         s.part("output") + "--- report:\n" + s.part("report").substr(0, 4000) + "--- journal:\n" + s.part("journal");
}

// The login-session scenario retries once when the known scope race (issue 12) made the first
// attempt fall back; say so in the test's output every time it happens.
void note_retry(const std::string& name, const Section& s) {
  if (!s.part("first_attempt_fell_back").empty())
    std::printf("%s: KNOWN RACE (issue 12): the first attempt fell back to the watchdog; retried\n", name.c_str());
}

void expect_memory_ceiling_kill(const std::string& name) {
  const auto& s = section(name);
  note_retry(name, s);
  Json report = s.report();
  ASSERT_TRUE(report.is_object()) << describe(name, s);
  EXPECT_EQ(report["enforcement"]["backend"], "cgroup_v2") << describe(name, s);
  EXPECT_EQ(s.exit_code(), 137) << describe(name, s);
  EXPECT_EQ(report["killed_by"], "memory_ceiling") << describe(name, s);
  // 400 MiB at 10 MiB per 50 ms: a ceiling that ends the hog does so within seconds; one that
  // throttles it at memory.high stalls it until --timeout (40 s).
  EXPECT_LT(std::stod(s.trimmed("wall_seconds")), 20.0) << describe(name, s);
  std::printf("%s: exit %d after %s s (guest clock), killed_by %s\n", name.c_str(), s.exit_code(),
              s.trimmed("wall_seconds").c_str(), report.value("killed_by", Json("?")).dump().c_str());
}

void expect_quarter_core(const std::string& name) {
  const auto& s = section(name);
  note_retry(name, s);
  Json report = s.report();
  ASSERT_TRUE(report.is_object()) << describe(name, s);
  EXPECT_EQ(s.exit_code(), 0) << describe(name, s);
  ASSERT_EQ(report["enforcement"]["backend"], "cgroup_v2") << describe(name, s);
  ASSERT_TRUE(report["enforcement"].contains("cpu")) << describe(name, s);
  // The share of a core while the tree wanted to run: CPU time over the bandwidth periods
  // (100 ms, guardian's default) in which it was runnable. Under TCG the spinner's start-up
  // (loading, relocation) also runs at 25 %, so dividing by its 6 s of spinning would overstate it.
  const auto& cpu = report["enforcement"]["cpu"];
  const double usage_s = cpu["usage_usec"].get<double>() / 1e6;
  const double runnable_s = cpu["nr_periods"].get<double>() * 0.1;
  ASSERT_GT(runnable_s, 5.0) << describe(name, s);
  const double cores = usage_s / runnable_s;
  EXPECT_GE(cores, 0.20) << "usage " << usage_s << " s over " << runnable_s << " s\n" << describe(name, s);
  EXPECT_LE(cores, 0.30) << "usage " << usage_s << " s over " << runnable_s << " s\n" << describe(name, s);
  EXPECT_GT(cpu["nr_throttled"].get<int>(), 0) << describe(name, s);
  std::printf("%s: %.3f of a core over %.1f s runnable\n", name.c_str(), cores, runnable_s);
  EXPECT_EQ(s.part("output").find("NOT enforced"), std::string::npos) << describe(name, s);
}

Json doctor(const std::string& situation) {
  const auto& s = section(situation + ".doctor");
  Json report = s.report();
  EXPECT_TRUE(report.is_object()) << situation << " doctor:\n" << s.part("report");
  return report.is_object() ? report : Json::object();
}

TEST_F(SystemdVm, TheMachineIsDebian12WithCpuDelegatedToTheUserManager) {
  const auto& facts = section("facts");
  // Recorded in BENCHMARKS.md: the guest's seconds from kernel start to the test unit.
  std::printf("systemd VM: boot to the test unit %s s (guest clock); %s\n", facts.trimmed("boot_seconds").c_str(),
              facts.trimmed("systemd").c_str());
  EXPECT_NE(facts.part("systemd").find("systemd 252"), std::string::npos) << facts.part("systemd");
  for (const char* name : {"cpu", "memory", "pids"})
    EXPECT_NE(facts.part("user_manager_controllers").find(name), std::string::npos) << facts.part("user_manager_controllers");
}

TEST_F(SystemdVm, AMemoryHogIsKilledByItsCeilingInEverySituation) {
  for (const char* situation : kSituations) expect_memory_ceiling_kill(std::string(situation) + ".memory");
}

TEST_F(SystemdVm, ASpinnerGetsAQuarterCoreInEverySituation) {
  for (const char* situation : kSituations) expect_quarter_core(std::string(situation) + ".cpu");
}

TEST_F(SystemdVm, DoctorPredictsTheBackendAndControllersTheRunUses) {
  for (const char* situation : kSituations) {
    Json predicted = doctor(situation)["run_backend"];
    Json used = section(std::string(situation) + ".cpu").report()["enforcement"];
    ASSERT_TRUE(used.is_object()) << situation;
    EXPECT_EQ(predicted["backend"], used["backend"]) << situation << "\n" << predicted.dump(2);
    EXPECT_TRUE(predicted["missing_controllers"].empty()) << situation << "\n" << predicted.dump(2);
    // Full enforcement on this machine: doctor has nothing to advise (no drop-in for cpu,
    // which Debian 12 already delegates; no "run in a delegated scope").
    EXPECT_TRUE(predicted["fixes"].empty()) << situation << "\n" << predicted.dump(2);
  }
  // A user in a scope without cpu gets guardian's own scope: predicted as such.
  EXPECT_EQ(doctor("alone_scope")["run_backend"]["systemd_scope"], true);
  EXPECT_EQ(doctor("root_service")["run_backend"]["systemd_scope"], false);
}

TEST_F(SystemdVm, WithoutAUserBusGuardianSaysSoFallsBackAndDoctorSaysWhatToRun) {
  const auto& s = section("no_bus.cpu");
  Json report = s.report();
  ASSERT_TRUE(report.is_object()) << describe("no_bus.cpu", s);
  EXPECT_EQ(report["enforcement"]["backend"], "watchdog") << describe("no_bus.cpu", s);
  EXPECT_NE(s.part("output").find("no systemd user bus"), std::string::npos) << describe("no_bus.cpu", s);
  Json predicted = doctor("no_bus")["run_backend"];
  EXPECT_EQ(predicted["backend"], "watchdog") << predicted.dump(2);
  ASSERT_FALSE(predicted["fixes"].empty()) << predicted.dump(2);
  EXPECT_NE(predicted["fixes"][0].get<std::string>().find("loginctl enable-linger"), std::string::npos)
      << predicted.dump(2);
}

TEST_F(SystemdVm, AUserServicesMemoryMaxStillHoldsTheRun) {
  const std::string name = "nested_service.memory";
  const auto& s = section(name);
  Json report = s.report();
  ASSERT_TRUE(report.is_object()) << describe(name, s);
  EXPECT_EQ(s.exit_code(), 137) << describe(name, s);
  EXPECT_EQ(report["killed_by"], "memory_ceiling") << describe(name, s);
  ASSERT_TRUE(report["enforcement"]["ceilings"]["memory_max_bytes"].is_number()) << report["enforcement"].dump(2);
  EXPECT_LE(report["enforcement"]["ceilings"]["memory_max_bytes"].get<std::uint64_t>(), 100u << 20) << report["enforcement"].dump(2);
  // The capping line itself, not the watchdog's fallback line in its place.
  EXPECT_NE(s.part("output").find("ceilings lowered to the limits guardian was started inside: memory 600 MiB"),
            std::string::npos)
      << describe(name, s);
  EXPECT_EQ(s.part("output").find("/proc watchdog"), std::string::npos) << describe(name, s);
}

}  // namespace
