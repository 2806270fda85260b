// The wire between the supervisor and the plugin host process: one message per line,
// "<verb> <body>\n", where the body is JSON (which never holds a raw newline) or, for
// events, "<seq> <event JSON>" so the event's text reaches plugins without a re-parse.
// The verbs are listed in ARCHITECTURE.md ("Plugins in their own process").
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

namespace guardian::plugins {

struct ChannelMessage {
  std::string_view verb;
  std::string_view body;
};

std::string channel_line(std::string_view verb, std::string_view body);
std::optional<ChannelMessage> parse_channel_line(std::string_view line);

// "<word> <rest>": the body of event-like messages ("<seq> <json>", "<plugin> <seq>").
std::pair<std::string_view, std::string_view> split_word(std::string_view text);
std::optional<std::uint64_t> parse_seq(std::string_view text);

// Bytes read from a stream socket, handed out line by line.
class LineBuffer {
 public:
  void append(const char* data, std::size_t size) { buffer_.append(data, size); }
  // The next complete line without its '\n', or nullopt when none is complete yet.
  std::optional<std::string> next_line();
  std::size_t pending_bytes() const { return buffer_.size() - start_; }

 private:
  std::string buffer_;
  std::size_t start_ = 0;
};

// Writes all of data to a blocking stream socket (MSG_NOSIGNAL: a dead peer is an error,
// not SIGPIPE). False when the peer is gone.
bool send_all(int fd, std::string_view data);

}  // namespace guardian::plugins
