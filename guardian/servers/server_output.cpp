#include "guardian/servers/server_output.hpp"

#include <fcntl.h>
#include <unistd.h>

#include <array>
#include <boost/asio/connect_pipe.hpp>
#include <boost/asio/readable_pipe.hpp>
#include <boost/asio/writable_pipe.hpp>
#include <cerrno>

namespace guardian::servers {
namespace {

// One write(2) per line so lines of several servers never interleave mid-line.
void write_line(int fd, const std::string& text) {
  std::string_view rest = text;
  while (!rest.empty()) {
    ssize_t n = ::write(fd, rest.data(), rest.size());
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) return;  // guardian's own output is gone: keep the ring, drop the copy
    rest.remove_prefix(static_cast<std::size_t>(n));
  }
}

}  // namespace

// One pipe being read. Owned by its pending read, so it outlives the ServerOutput safely.
struct ServerOutput::Stream : std::enable_shared_from_this<ServerOutput::Stream> {
  Stream(boost::asio::io_context& io, std::string line_prefix, int forward_to, std::shared_ptr<health::OutputRing> lines,
         std::shared_ptr<std::function<void(const std::string&)>> line_listener)
      : pipe(io),
        prefix(std::move(line_prefix)),
        forward_fd(forward_to),
        ring(std::move(lines)),
        listener(std::move(line_listener)) {}

  void read() {
    pipe.async_read_some(boost::asio::buffer(buffer),
                         [self = shared_from_this()](const boost::system::error_code& error, std::size_t n) {
                           if (n > 0)
                             for (auto& line : self->splitter.feed({self->buffer.data(), n})) self->emit(line);
                           if (error) {
                             if (auto rest = self->splitter.flush(); !rest.empty()) self->emit(rest);
                             self->done = true;
                             return;
                           }
                           self->read();
                         });
  }

  void emit(const std::string& line) {
    ring->add(line);
    if (forward_fd >= 0) write_line(forward_fd, prefix + line + "\n");
    if (*listener) (*listener)(line);
  }

  boost::asio::readable_pipe pipe;
  std::string prefix;
  int forward_fd;
  std::shared_ptr<health::OutputRing> ring;
  std::shared_ptr<std::function<void(const std::string&)>> listener;
  health::LineSplitter splitter;
  std::array<char, 8192> buffer{};
  bool done = false;
  bool reading = false;
};

ServerOutput::ServerOutput(boost::asio::io_context& io, std::string name, bool forward)
    : io_(io), name_(std::move(name)), forward_(forward), ring_(std::make_shared<health::OutputRing>()) {}

ServerOutput::~ServerOutput() {
  *listener_ = nullptr;
  abandon();
  for (auto& stream : streams_) {
    boost::system::error_code ignored;
    stream->pipe.close(ignored);
  }
}

std::error_code ServerOutput::prepare(process::LaunchSpec& spec) {
  abandon();
  std::erase_if(streams_, [](const auto& stream) { return stream->done; });
  int null_fd = ::open("/dev/null", O_RDONLY | O_CLOEXEC);
  if (null_fd < 0) return {errno, std::system_category()};
  child_ends_.push_back(null_fd);
  spec.stdin_fd = null_fd;
  int targets[2] = {STDOUT_FILENO, STDERR_FILENO};
  for (int target : targets) {
    auto stream = std::make_shared<Stream>(io_, "[" + name_ + "] ", forward_ ? target : -1, ring_, listener_);
    boost::asio::writable_pipe write_end(io_);
    boost::system::error_code error;
    boost::asio::connect_pipe(stream->pipe, write_end, error);
    if (error) {
      abandon();
      return {error.value(), std::system_category()};
    }
    ::fcntl(stream->pipe.native_handle(), F_SETFD, FD_CLOEXEC);  // asio's pipe() leaves it inheritable
    int fd = write_end.release();
    child_ends_.push_back(fd);
    (target == STDOUT_FILENO ? spec.stdout_fd : spec.stderr_fd) = fd;
    streams_.push_back(std::move(stream));
  }
  return {};
}

void ServerOutput::launched() {
  for (int fd : child_ends_) ::close(fd);
  child_ends_.clear();
  for (auto& stream : streams_)
    if (!stream->done && !stream->reading) {
      stream->reading = true;
      stream->read();
    }
}

void ServerOutput::abandon() {
  for (int fd : child_ends_) ::close(fd);
  child_ends_.clear();
  std::erase_if(streams_, [](const auto& stream) { return !stream->reading; });
}

}  // namespace guardian::servers
