#include "guardian/config/toml_text.hpp"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <fmt/format.h>

#include "guardian/config/config.hpp"

namespace guardian::config {
namespace {

// config sits below process/ in the layers, so it keeps its own three-line descriptor owner.
struct OwnedFd {
  int fd;
  ~OwnedFd() {
    if (fd >= 0) ::close(fd);
  }
};

const char* file_kind(mode_t mode) {
  if (S_ISDIR(mode)) return "a directory";
  if (S_ISCHR(mode)) return "a character device";
  if (S_ISBLK(mode)) return "a block device";
  if (S_ISFIFO(mode)) return "a FIFO";
  if (S_ISSOCK(mode)) return "a socket";
  return "not a regular file";
}

bool bare_key_character(char c) {
  return (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '_' || c == '-';
}

// Walks the text the way a TOML lexer does, only far enough to know whether each byte is
// inside a string, a comment, or neither.
class TomlScanner {
 public:
  explicit TomlScanner(std::string_view text) : text_(text) {}

  std::optional<TomlTextProblem> run() {
    while (i_ < text_.size()) {
      const char c = text_[i_];
      if (c == '\n') {
        newline();
        continue;
      }
      if (c == '#') {
        while (i_ < text_.size() && text_[i_] != '\n') ++i_;
        continue;
      }
      if (c == '"' || c == '\'') {
        skip_string(c);
        continue;
      }
      if (static_cast<unsigned char>(c) >= 0x80)
        return problem("a non-ASCII character outside quotes; TOML allows it only in a \"string\" or a # comment");
      if (c == '=') in_value_ = true;
      if (c == '[' && !in_value_ && at_line_start()) {
        if (auto bad = check_table_header()) return bad;
        continue;
      }
      if ((c == '[' || c == '{') && in_value_) ++depth_;
      if ((c == ']' || c == '}') && depth_ > 0) --depth_;
      ++i_;
    }
    return std::nullopt;
  }

 private:
  void newline() {
    ++i_;
    ++line_;
    line_start_ = i_;
    if (depth_ == 0) in_value_ = false;  // a multi-line array or inline table goes on
  }

  bool at_line_start() const {
    for (std::size_t k = line_start_; k < i_; ++k)
      if (text_[k] != ' ' && text_[k] != '\t') return false;
    return true;
  }

  std::optional<TomlTextProblem> check_table_header() {
    ++i_;
    if (i_ < text_.size() && text_[i_] == '[') ++i_;
    while (i_ < text_.size() && (text_[i_] == ' ' || text_[i_] == '\t')) ++i_;
    if (i_ == text_.size()) return std::nullopt;
    const char c = text_[i_];
    if (bare_key_character(c) || c == '"' || c == '\'' || c == ']') return std::nullopt;
    return problem("a table header must start with a name, e.g. [run] or [servers.api]");
  }

  // From the opening quote to past the closing one ('"' basic, '\'' literal; tripled: multi-line).
  void skip_string(char quote) {
    const bool multi_line = text_.substr(i_, 3) == std::string_view(quote == '"' ? "\"\"\"" : "'''");
    i_ += multi_line ? 3 : 1;
    while (i_ < text_.size()) {
      const char c = text_[i_];
      if (c == '\\' && quote == '"') {
        i_ += 2;  // an escape: the next byte never ends the string
        continue;
      }
      if (c == '\n') {
        if (!multi_line) return;  // unterminated: toml++ reports it
        newline();
        continue;
      }
      if (c == quote && (!multi_line || text_.substr(i_, 3) == std::string_view(quote == '"' ? "\"\"\"" : "'''"))) {
        i_ += multi_line ? 3 : 1;
        // """a""""" is legal: up to two quotes right before the closing three belong to the string.
        for (int extra = 0; multi_line && extra < 2 && i_ < text_.size() && text_[i_] == quote; ++extra) ++i_;
        return;
      }
      ++i_;
    }
  }

  TomlTextProblem problem(std::string reason) const {
    return TomlTextProblem{line_, i_ - line_start_ + 1, std::move(reason)};
  }

  std::string_view text_;
  std::size_t i_ = 0;
  std::size_t line_ = 1;
  std::size_t line_start_ = 0;
  bool in_value_ = false;  // after '=' on this line (or in a multi-line array/inline table)
  int depth_ = 0;          // open '[' and '{' of a value
};

}  // namespace

std::string read_config_file(const std::filesystem::path& path) {
  const std::string shown = path.string();
  // O_NONBLOCK: opening a FIFO with no writer must not hang; fstat then refuses it.
  const OwnedFd fd{::open(path.c_str(), O_RDONLY | O_NONBLOCK | O_CLOEXEC | O_NOCTTY)};
  if (fd.fd < 0) {
    const int error = errno;
    if (error == ENOENT)
      throw ConfigError(fmt::format("config file '{}' does not exist; check the path given to --config", shown));
    if (error == EACCES)
      throw ConfigError(fmt::format("cannot read config file '{}': permission denied; make it readable "
                                    "(chmod u+r) or point --config at another file", shown));
    throw ConfigError(fmt::format("cannot open config file '{}': {}; point --config at a TOML file such as "
                                  "guardian.toml", shown, std::strerror(error)));
  }
  struct stat info {};
  if (::fstat(fd.fd, &info) != 0 || !S_ISREG(info.st_mode))
    throw ConfigError(fmt::format("config file '{}' is {}, not a regular file; point --config at a TOML file "
                                  "such as guardian.toml", shown, file_kind(info.st_mode)));
  if (static_cast<std::uint64_t>(info.st_size) > kMaxConfigFileBytes)
    throw ConfigError(fmt::format("config file '{}' is {} bytes, more than the {} a configuration may have; "
                                  "point --config at guardian.toml", shown, info.st_size, kMaxConfigFileBytes));
  std::string text;
  char buffer[16384];
  while (true) {
    const ssize_t n = ::read(fd.fd, buffer, sizeof buffer);
    if (n < 0 && errno == EINTR) continue;
    if (n < 0)
      throw ConfigError(fmt::format("cannot read config file '{}': {}; check the file", shown, std::strerror(errno)));
    if (n == 0) break;
    text.append(buffer, static_cast<std::size_t>(n));
    if (text.size() > kMaxConfigFileBytes)  // it grew while we read
      throw ConfigError(fmt::format("config file '{}' is more than {} bytes; point --config at guardian.toml",
                                    shown, kMaxConfigFileBytes));
  }
  return text;
}

std::optional<TomlTextProblem> toml_text_problem(std::string_view text) { return TomlScanner(text).run(); }

}  // namespace guardian::config
