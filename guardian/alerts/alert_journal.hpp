// AlertJournal: the durable, append-only alerts.jsonl of a run; one JSON object per line.
#pragma once

#include <filesystem>
#include <string_view>
#include <system_error>

namespace guardian::alerts {

// Each line goes out in a single write(2) on an O_APPEND descriptor, so a guardian
// killed with SIGKILL at any moment leaves only whole lines: the kernel has either
// taken the write into the page cache or not. (Power loss is not covered: no fsync
// per line, that would cost ~1 ms per alert.)
class AlertJournal {
 public:
  AlertJournal() = default;
  ~AlertJournal();
  AlertJournal(const AlertJournal&) = delete;
  AlertJournal& operator=(const AlertJournal&) = delete;

  // Opens (creating, mode 0600) path for appending; creates missing parent directories (0700).
  std::error_code open(const std::filesystem::path& path);
  bool is_open() const { return fd_ >= 0; }
  const std::filesystem::path& path() const { return path_; }

  // Appends line + '\n'. line must not contain a newline (JSON dump() never does).
  std::error_code append(std::string_view line);

 private:
  int fd_ = -1;
  std::filesystem::path path_;
};

}  // namespace guardian::alerts
