#include "guardian/limits/file_watch.hpp"

#include <sys/inotify.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <fmt/format.h>
#include <vector>

namespace guardian::limits {

FileWatch::FileWatch(boost::asio::any_io_executor executor) : stream_(std::move(executor)) {
  int fd = ::inotify_init1(IN_NONBLOCK | IN_CLOEXEC);
  if (fd >= 0) stream_.assign(fd);
}

FileWatch::~FileWatch() { cancel(); }

Status FileWatch::add(const std::string& path, std::function<void()> on_modify) {
  if (!stream_.is_open())
    return Error{std::error_code(EMFILE, std::system_category()),
                 "inotify is unavailable (fs.inotify.max_user_instances reached?)"};
  int wd = ::inotify_add_watch(stream_.native_handle(), path.c_str(), IN_MODIFY);
  if (wd < 0) {
    std::error_code code(errno, std::system_category());
    return Error{code, fmt::format("watching {} with inotify: {}", path, code.message())};
  }
  handlers_[wd] = std::move(on_modify);
  if (!armed_) arm();
  return std::nullopt;
}

void FileWatch::cancel() {
  *alive_ = false;
  handlers_.clear();
  boost::system::error_code ignored;
  if (stream_.is_open()) stream_.close(ignored);
}

void FileWatch::arm() {
  armed_ = true;
  stream_.async_read_some(
      boost::asio::buffer(buffer_), [this, alive = alive_](const boost::system::error_code& error, std::size_t n) {
        if (!*alive || error) return;
        // Collect first: a handler may cancel the watch (and clear handlers_).
        std::vector<int> fired;
        for (std::size_t offset = 0; offset + sizeof(inotify_event) <= n;) {
          inotify_event event;
          std::memcpy(&event, buffer_.data() + offset, sizeof event);
          fired.push_back(event.wd);
          offset += sizeof(inotify_event) + event.len;
        }
        for (int wd : fired) {
          if (!*alive) return;
          auto it = handlers_.find(wd);
          if (it == handlers_.end()) continue;
          auto handler = it->second;  // a copy: the handler may add or remove watches
          handler();
        }
        if (*alive) arm();
      });
}

}  // namespace guardian::limits
