// AlertJournal: the durable, append-only alerts.jsonl of a run; one JSON object per line.
#pragma once

#include <cstdint>
#include <filesystem>
#include <string_view>
#include <system_error>

namespace guardian::alerts {

// SIGKILL safety: one write(2) is NOT atomic against SIGKILL — the kernel copies a
// buffered write page by page and stops between pages when a fatal signal is pending
// (generic_perform_write), so a line crossing a page boundary can be torn (the test
// showed it). A write that stays within one page is all-or-nothing. So every record
// is at most one page long and never crosses a page boundary: when it would, spaces
// are first written up to the boundary (leading whitespace is legal JSON; a kill
// exactly between the two writes leaves only trailing spaces, never a partial record).
// Power loss is not covered: no fsync per line, that would cost ~1 ms per alert.
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

  // Appends line + '\n'. line must not contain a newline (JSON dump() never does) and
  // must be shorter than max_line_bytes() (else: errc::message_size).
  std::error_code append(std::string_view line);

  // The longest line append() accepts (one page minus the newline).
  static std::size_t max_line_bytes();

 private:
  int fd_ = -1;
  std::uint64_t size_bytes_ = 0;  // our own append offset (we are the only writer)
  std::filesystem::path path_;
};

}  // namespace guardian::alerts
