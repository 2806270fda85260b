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
    auto piece = chunk.substr(0, newline);
    pending_.append(piece);
    chunk = newline == std::string_view::npos ? std::string_view{} : chunk.substr(newline + 1);
    if (newline != std::string_view::npos) {
      lines.push_back(std::move(pending_));
      pending_.clear();
    } else if (pending_.size() >= max_line_bytes_) {
      lines.push_back(std::move(pending_));
      pending_.clear();
    }
  }
  return lines;
}

std::string LineSplitter::flush() {
  std::string rest = std::move(pending_);
  pending_.clear();
  return rest;
}

}  // namespace guardian::health
