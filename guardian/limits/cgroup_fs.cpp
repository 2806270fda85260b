#include "guardian/limits/cgroup_fs.hpp"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <fmt/format.h>

namespace guardian::limits {
namespace {

std::string_view strip_slashes(std::string_view s) {
  while (!s.empty() && s.front() == '/') s.remove_prefix(1);
  while (!s.empty() && s.back() == '/') s.remove_suffix(1);
  return s;
}

Error os_error(int err, std::string what) {
  std::error_code code(err, std::system_category());
  return Error{code, fmt::format("{}: {}", what, code.message())};
}

}  // namespace

std::string join_dir(std::string_view dir, std::string_view child) {
  dir = strip_slashes(dir);
  child = strip_slashes(child);
  if (dir.empty()) return std::string(child);
  if (child.empty()) return std::string(dir);
  return fmt::format("{}/{}", dir, child);
}

CgroupFs::CgroupFs(std::filesystem::path root) : root_(std::move(root)) {}

std::string CgroupFs::path(std::string_view dir, std::string_view file) const {
  std::string out = root_.string();
  while (out.size() > 1 && out.back() == '/') out.pop_back();
  for (auto part : {strip_slashes(dir), strip_slashes(file)}) {
    if (part.empty()) continue;
    if (out != "/") out += '/';
    out += part;
  }
  return out;
}

Result<std::string> CgroupFs::read(std::string_view dir, std::string_view file) const {
  std::string where = path(dir, file);
  int fd = ::open(where.c_str(), O_RDONLY | O_CLOEXEC);
  if (fd < 0) return os_error(errno, "reading " + where);
  process::UniqueFd owned(fd);
  std::string text;
  char buffer[4096];
  while (true) {
    ssize_t n = ::read(fd, buffer, sizeof buffer);
    if (n < 0 && errno == EINTR) continue;
    if (n < 0) return os_error(errno, "reading " + where);
    if (n == 0) break;
    text.append(buffer, static_cast<std::size_t>(n));
  }
  return text;
}

Status CgroupFs::write(std::string_view dir, std::string_view file, std::string_view value) const {
  std::string where = path(dir, file);
  auto what = [&] { return fmt::format("writing '{}' to {}", value, where); };
  int fd = ::open(where.c_str(), O_WRONLY | O_TRUNC | O_CLOEXEC);
  if (fd < 0) return os_error(errno, what());
  process::UniqueFd owned(fd);
  ssize_t n;
  do {
    n = ::write(fd, value.data(), value.size());
  } while (n < 0 && errno == EINTR);
  if (n < 0) return os_error(errno, what());
  if (static_cast<std::size_t>(n) != value.size()) return os_error(EIO, what() + " (short write)");
  return std::nullopt;
}

bool CgroupFs::exists(std::string_view dir, std::string_view file) const {
  return ::access(path(dir, file).c_str(), F_OK) == 0;
}

bool CgroupFs::writable(std::string_view dir, std::string_view file) const {
  return ::access(path(dir, file).c_str(), W_OK) == 0;
}

Status CgroupFs::make_dir(std::string_view dir) const {
  std::string where = path(dir);
  if (::mkdir(where.c_str(), 0755) != 0) return os_error(errno, "creating cgroup " + where);
  return std::nullopt;
}

Status CgroupFs::remove_dir(std::string_view dir) const {
  std::string where = path(dir);
  if (::rmdir(where.c_str()) != 0) return os_error(errno, "removing cgroup " + where);
  return std::nullopt;
}

std::vector<std::string> CgroupFs::children(std::string_view dir) const {
  std::vector<std::string> out;
  std::error_code ec;
  for (const auto& entry : std::filesystem::directory_iterator(path(dir), ec))
    if (entry.is_directory(ec)) out.push_back(entry.path().filename().string());
  return out;
}

Result<process::UniqueFd> CgroupFs::open_for_write(std::string_view dir, std::string_view file) const {
  std::string where = path(dir, file);
  int fd = ::open(where.c_str(), O_WRONLY | O_CLOEXEC);
  if (fd < 0) return os_error(errno, "opening " + where + " for writing");
  return process::UniqueFd(fd);
}

}  // namespace guardian::limits
