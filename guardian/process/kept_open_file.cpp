#include "guardian/process/kept_open_file.hpp"

#include <fcntl.h>
#include <unistd.h>

namespace guardian::process {

std::optional<std::string_view> read_start(const UniqueFd& fd, std::span<char> buffer) {
  if (!fd) return std::nullopt;
  const ssize_t n = ::pread(fd.get(), buffer.data(), buffer.size(), 0);
  if (n < 0) return std::nullopt;
  return std::string_view(buffer.data(), static_cast<std::size_t>(n));
}

std::optional<std::string_view> read_from_start(const UniqueFd& fd, std::span<char> buffer, std::string& overflow) {
  constexpr std::size_t kLongestLine = 256;  // a pid ("4194304 "), a key and its value
  auto first = read_start(fd, buffer);
  if (!first || first->size() + kLongestLine < buffer.size()) return first;
  overflow.assign(*first);
  ssize_t n = 0;
  while ((n = ::pread(fd.get(), buffer.data(), buffer.size(), static_cast<off_t>(overflow.size()))) > 0)
    overflow.append(buffer.data(), static_cast<std::size_t>(n));
  if (n < 0) return std::nullopt;
  return std::string_view(overflow);
}

template <typename ReadOnce>
std::optional<std::string_view> KeptOpenFile::with_reopen(ReadOnce read_once) {
  if (!fd_) fd_.reset(::open(path_.c_str(), O_RDONLY | O_CLOEXEC));
  if (auto text = read_once()) return text;
  // Open afresh once: the file may have been replaced (a fixture, a remount).
  fd_.reset(::open(path_.c_str(), O_RDONLY | O_CLOEXEC));
  return read_once();
}

std::optional<std::string_view> KeptOpenFile::read(std::span<char> buffer, std::string& overflow) {
  return with_reopen([&] { return read_from_start(fd_, buffer, overflow); });
}

std::optional<std::string_view> KeptOpenFile::read_start(std::span<char> buffer) {
  return with_reopen([&] { return process::read_start(fd_, buffer); });
}

}  // namespace guardian::process
