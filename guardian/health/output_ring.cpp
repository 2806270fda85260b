#include "guardian/health/output_ring.hpp"

#include <algorithm>

namespace guardian::health {

OutputRing::OutputRing(std::size_t max_lines, std::size_t max_line_bytes)
    : max_lines_(std::max<std::size_t>(max_lines, 1)), max_line_bytes_(max_line_bytes) {}

void OutputRing::add(std::string_view line) {
  if (line.ends_with('\r')) line.remove_suffix(1);
  std::string kept(line.substr(0, max_line_bytes_));
  if (line.size() > max_line_bytes_) kept += "…";
  lines_.push_back(std::move(kept));
  ++total_;
  while (lines_.size() > max_lines_) lines_.pop_front();
}

std::vector<std::string> OutputRing::last(std::size_t count) const {
  count = std::min(count, lines_.size());
  return {lines_.end() - static_cast<long>(count), lines_.end()};
}

std::vector<std::string> LineSplitter::feed(std::string_view chunk) {
  std::vector<std::string> lines;
  while (!chunk.empty()) {
    auto newline = chunk.find('\n');
    std::size_t room = max_line_bytes_ > pending_.size() ? max_line_bytes_ - pending_.size() : 0;
    if (newline != std::string_view::npos && newline <= room) {
      pending_.append(chunk.substr(0, newline));
      chunk.remove_prefix(newline + 1);
    } else {
      // No newline within the limit: a piece of a very long line becomes a line of its own.
      auto take = std::min(room, chunk.size());
      pending_.append(chunk.substr(0, take));
      chunk.remove_prefix(take);
      if (pending_.size() < max_line_bytes_) break;
    }
    lines.push_back(std::move(pending_));
    pending_.clear();
  }
  return lines;
}

std::string LineSplitter::flush() {
  std::string rest = std::move(pending_);
  pending_.clear();
  return rest;
}

}  // namespace guardian::health
