// deny-syscall: run a program under a seccomp filter that fails one system call, as a
// container runtime's default profile does for calls it does not know (Docker before 20.10
// answered pidfd_open with EPERM; a kernel older than 5.3 answers ENOSYS).
#include <errno.h>
#include <linux/audit.h>
#include <linux/filter.h>
#include <linux/seccomp.h>
#include <stddef.h>
#include <sys/prctl.h>
#include <sys/syscall.h>
#include <unistd.h>

#include <cstring>
#include <string>

#include "modes.hpp"
#include "target_support.hpp"

namespace guardian::target {
namespace {

#if defined(__x86_64__)
constexpr unsigned kAuditArch = AUDIT_ARCH_X86_64;
#elif defined(__aarch64__)
constexpr unsigned kAuditArch = AUDIT_ARCH_AARCH64;
#else
#error "deny-syscall: add this architecture's AUDIT_ARCH_* value"
#endif

long syscall_number(std::string_view name) {
  if (name == "pidfd_open") return SYS_pidfd_open;
  if (name == "pidfd_send_signal") return SYS_pidfd_send_signal;
  if (name == "clone3") return SYS_clone3;
  usage_error("deny-syscall: unknown system call '" + std::string(name) + "' (pidfd_open, pidfd_send_signal, clone3)");
}

int errno_value(std::string_view name) {
  if (name == "EPERM") return EPERM;
  if (name == "ENOSYS") return ENOSYS;
  usage_error("deny-syscall: unknown error '" + std::string(name) + "' (EPERM, ENOSYS)");
}

}  // namespace

int mode_deny_syscall(Args args) {
  if (args.size() < 3) usage_error("deny-syscall: wrong number of arguments");
  const auto number = static_cast<unsigned>(syscall_number(args[0]));
  const auto error = static_cast<unsigned>(errno_value(args[1]));
  sock_filter filter[] = {
      BPF_STMT(BPF_LD | BPF_W | BPF_ABS, offsetof(seccomp_data, arch)),
      BPF_JUMP(BPF_JMP | BPF_JEQ | BPF_K, kAuditArch, 1, 0),
      BPF_STMT(BPF_RET | BPF_K, SECCOMP_RET_ALLOW),
      BPF_STMT(BPF_LD | BPF_W | BPF_ABS, offsetof(seccomp_data, nr)),
      BPF_JUMP(BPF_JMP | BPF_JEQ | BPF_K, number, 0, 1),
      BPF_STMT(BPF_RET | BPF_K, SECCOMP_RET_ERRNO | (error & SECCOMP_RET_DATA)),
      BPF_STMT(BPF_RET | BPF_K, SECCOMP_RET_ALLOW),
  };
  sock_fprog program{static_cast<unsigned short>(sizeof filter / sizeof filter[0]), filter};
  if (::prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) != 0 || ::prctl(PR_SET_SECCOMP, SECCOMP_MODE_FILTER, &program) != 0) {
    complain(std::string("deny-syscall: cannot install the seccomp filter: ") + std::strerror(errno));
    return 1;
  }
  ::execvp(args[2], args.subspan(2).data());
  complain(std::string("deny-syscall: cannot run ") + args[2] + ": " + std::strerror(errno));
  return 127;
}

}  // namespace guardian::target
