// AlertFileWriter: writes alert_<unix-ts>_<TYPE>.json files atomically (temp + fsync +
// rename without overwrite + directory fsync) into a 0700 directory, files 0600, and
// keeps at most max_files files no older than max_age.
#pragma once

#include <chrono>
#include <cstdint>
#include <deque>
#include <filesystem>
#include <string>
#include <system_error>

namespace guardian::jsonfile {

struct WriterOptions {
  std::filesystem::path directory;
  std::int64_t max_files = 1000;  // <= 0: unlimited
  std::int64_t max_age_s = 7 * 24 * 3600;  // <= 0: unlimited
};

class AlertFileWriter {
 public:
  explicit AlertFileWriter(WriterOptions options);
  ~AlertFileWriter();
  AlertFileWriter(const AlertFileWriter&) = delete;
  AlertFileWriter& operator=(const AlertFileWriter&) = delete;

  // When the directory exists: makes it 0700, removes temp files a killed writer left behind
  // and applies retention to the files already there. When it does not: checks that it can
  // be created (it is, with the first write). On error, error says what and where.
  bool open(std::string& error);

  // Writes content as alert_<unix_ts>_<type>.json (or -2, -3 ... when taken).
  // Returns the final path, or an empty path with error set.
  std::filesystem::path write(std::int64_t unix_ts, const std::string& type, const std::string& content,
                              std::string& error);

  std::size_t file_count() const { return files_.size(); }

 private:
  bool prepare_directory(std::string& error);
  void apply_retention();

  WriterOptions options_;
  int dir_fd_ = -1;
  std::uint64_t temp_counter_ = 0;
  // (modification time, path), oldest first.
  std::deque<std::pair<std::int64_t, std::filesystem::path>> files_;
};

}  // namespace guardian::jsonfile
