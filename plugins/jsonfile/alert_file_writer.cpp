#include "alert_file_writer.hpp"

#include <algorithm>
#include <cerrno>
#include <cstdio>
#include <cstring>
#include <ctime>
#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>
#include <vector>

namespace guardian::jsonfile {
namespace {

std::string errno_text(int err) { return std::strerror(err); }

bool is_alert_file(const std::string& name) {
  return name.rfind("alert_", 0) == 0 && name.size() > 5 && name.substr(name.size() - 5) == ".json";
}

bool is_temp_file(const std::string& name) {
  return name.rfind(".alert_", 0) == 0 && name.size() > 4 && name.substr(name.size() - 4) == ".tmp";
}

std::string sanitize_type(const std::string& type) {
  std::string out;
  for (char c : type) {
    const bool ok = (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '_';
    out.push_back(ok ? c : '_');
  }
  return out.empty() ? std::string("UNKNOWN") : out.substr(0, 64);
}

std::int64_t now_unix() { return static_cast<std::int64_t>(std::time(nullptr)); }

}  // namespace

AlertFileWriter::AlertFileWriter(WriterOptions options) : options_(std::move(options)) {}

AlertFileWriter::~AlertFileWriter() {
  if (dir_fd_ >= 0) ::close(dir_fd_);
}

bool AlertFileWriter::open(std::string& error) {
  std::error_code ec;
  if (std::filesystem::is_directory(options_.directory, ec)) return prepare_directory(error);
  // Not there yet: it is created with the first alert, so a run without alerts leaves no
  // trace. Whether it could be created is checked now, so a bad setting fails the start.
  auto ancestor = options_.directory.lexically_normal();
  if (ancestor.is_relative()) ancestor = std::filesystem::current_path(ec) / ancestor;
  while (!std::filesystem::exists(ancestor, ec) && ancestor.has_relative_path()) ancestor = ancestor.parent_path();
  if (!std::filesystem::is_directory(ancestor, ec) || ::access(ancestor.c_str(), W_OK | X_OK) != 0) {
    error = "cannot create " + options_.directory.string() + ": " + ancestor.string() +
            " is not a writable directory; set [plugins.jsonfile] directory to a writable place";
    return false;
  }
  return true;
}

bool AlertFileWriter::prepare_directory(std::string& error) {
  std::error_code ec;
  std::filesystem::create_directories(options_.directory, ec);
  if (ec) {
    error = "creating " + options_.directory.string() + ": " + ec.message() +
            "; set [plugins.jsonfile] directory to a writable place";
    return false;
  }
  // Alerts can carry command lines and paths: only the owner may read them.
  if (::chmod(options_.directory.c_str(), 0700) != 0) {
    error = "chmod 0700 " + options_.directory.string() + ": " + errno_text(errno);
    return false;
  }
  dir_fd_ = ::open(options_.directory.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC);
  if (dir_fd_ < 0) {
    error = "opening " + options_.directory.string() + ": " + errno_text(errno);
    return false;
  }
  std::vector<std::pair<std::int64_t, std::filesystem::path>> existing;
  for (const auto& entry : std::filesystem::directory_iterator(options_.directory, ec)) {
    const std::string name = entry.path().filename().string();
    if (is_temp_file(name)) {
      // Left by a writer killed between create and rename: never a complete alert.
      std::filesystem::remove(entry.path(), ec);
      continue;
    }
    if (!is_alert_file(name)) continue;
    struct stat st {};
    if (::stat(entry.path().c_str(), &st) != 0) continue;
    existing.emplace_back(static_cast<std::int64_t>(st.st_mtime), entry.path());
  }
  std::sort(existing.begin(), existing.end());
  files_.assign(existing.begin(), existing.end());
  apply_retention();
  return true;
}

std::filesystem::path AlertFileWriter::write(std::int64_t unix_ts, const std::string& type,
                                             const std::string& content, std::string& error) {
  if (dir_fd_ < 0 && !prepare_directory(error)) return {};
  const std::string stem = "alert_" + std::to_string(unix_ts) + "_" + sanitize_type(type);
  const std::string temp_name =
      "." + stem + "." + std::to_string(::getpid()) + "." + std::to_string(++temp_counter_) + ".tmp";
  const int fd = ::openat(dir_fd_, temp_name.c_str(), O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0600);
  if (fd < 0) {
    error = "creating " + (options_.directory / temp_name).string() + ": " + errno_text(errno);
    return {};
  }
  const char* data = content.data();
  std::size_t left = content.size();
  while (left > 0) {
    const ssize_t n = ::write(fd, data, left);
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) {
      error = "writing " + (options_.directory / temp_name).string() + ": " + errno_text(errno);
      ::close(fd);
      ::unlinkat(dir_fd_, temp_name.c_str(), 0);
      return {};
    }
    data += n;
    left -= static_cast<std::size_t>(n);
  }
  if (::fsync(fd) != 0) {
    error = "fsync " + (options_.directory / temp_name).string() + ": " + errno_text(errno);
    ::close(fd);
    ::unlinkat(dir_fd_, temp_name.c_str(), 0);
    return {};
  }
  ::close(fd);

  std::string final_name;
  for (int attempt = 1;; ++attempt) {
    final_name = attempt == 1 ? stem + ".json" : stem + "-" + std::to_string(attempt) + ".json";
    // RENAME_NOREPLACE: two alerts of one type in the same second never overwrite each other.
    if (::renameat2(dir_fd_, temp_name.c_str(), dir_fd_, final_name.c_str(), RENAME_NOREPLACE) == 0) break;
    if (errno != EEXIST || attempt >= 1000) {
      error = "renaming to " + (options_.directory / final_name).string() + ": " + errno_text(errno);
      ::unlinkat(dir_fd_, temp_name.c_str(), 0);
      return {};
    }
  }
  ::fsync(dir_fd_);  // the rename itself survives a crash
  auto path = options_.directory / final_name;
  files_.emplace_back(now_unix(), path);
  apply_retention();
  return path;
}

void AlertFileWriter::apply_retention() {
  std::error_code ec;
  if (options_.max_files > 0) {
    while (files_.size() > static_cast<std::size_t>(options_.max_files)) {
      std::filesystem::remove(files_.front().second, ec);
      files_.pop_front();
    }
  }
  if (options_.max_age_s > 0) {
    const std::int64_t cutoff = now_unix() - options_.max_age_s;
    while (!files_.empty() && files_.front().first < cutoff) {
      std::filesystem::remove(files_.front().second, ec);
      files_.pop_front();
    }
  }
}

}  // namespace guardian::jsonfile
