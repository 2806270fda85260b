#include "guardian/plugins/plugin_channel.hpp"

#include <sys/socket.h>

#include <cerrno>
#include <charconv>

namespace guardian::plugins {

std::string channel_line(std::string_view verb, std::string_view body) {
  std::string line;
  line.reserve(verb.size() + body.size() + 2);
  line.append(verb).append(" ").append(body).append("\n");
  return line;
}

std::pair<std::string_view, std::string_view> split_word(std::string_view text) {
  const auto space = text.find(' ');
  if (space == std::string_view::npos) return {text, {}};
  return {text.substr(0, space), text.substr(space + 1)};
}

std::optional<ChannelMessage> parse_channel_line(std::string_view line) {
  auto [verb, body] = split_word(line);
  if (verb.empty()) return std::nullopt;
  return ChannelMessage{verb, body};
}

std::optional<std::uint64_t> parse_seq(std::string_view text) {
  std::uint64_t value = 0;
  auto [end, error] = std::from_chars(text.data(), text.data() + text.size(), value);
  if (error != std::errc() || end != text.data() + text.size()) return std::nullopt;
  return value;
}

std::optional<std::string> LineBuffer::next_line() {
  const auto newline = buffer_.find('\n', start_);
  if (newline == std::string::npos) {
    if (start_ > 0) {  // keep the buffer from growing with consumed bytes
      buffer_.erase(0, start_);
      start_ = 0;
    }
    return std::nullopt;
  }
  std::string line = buffer_.substr(start_, newline - start_);
  start_ = newline + 1;
  if (start_ == buffer_.size()) {
    buffer_.clear();
    start_ = 0;
  }
  return line;
}

bool send_all(int fd, std::string_view data) {
  while (!data.empty()) {
    const auto sent = ::send(fd, data.data(), data.size(), MSG_NOSIGNAL);
    if (sent < 0) {
      if (errno == EINTR) continue;
      return false;
    }
    data.remove_prefix(static_cast<std::size_t>(sent));
  }
  return true;
}

}  // namespace guardian::plugins
