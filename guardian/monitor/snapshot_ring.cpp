#include "guardian/monitor/snapshot_ring.hpp"

#include <algorithm>

namespace guardian::monitor {

SnapshotRing::SnapshotRing(std::size_t capacity) : capacity_(std::max<std::size_t>(capacity, 1)) {}

void SnapshotRing::push(Snapshot snapshot) {
  std::lock_guard lock(mutex_);
  if (snapshots_.size() == capacity_) snapshots_.pop_front();
  snapshots_.push_back(std::move(snapshot));
}

std::vector<Snapshot> SnapshotRing::query(const SnapshotQuery& query) const {
  std::lock_guard lock(mutex_);
  // Snapshots are pushed in time order, so the window is one contiguous range.
  auto first = snapshots_.begin();
  if (query.since)
    first = std::lower_bound(snapshots_.begin(), snapshots_.end(), *query.since,
                             [](const Snapshot& s, const WallTime& t) { return s.time < t; });
  auto last = snapshots_.end();
  if (query.until)
    last = std::upper_bound(first, snapshots_.end(), *query.until,
                            [](const WallTime& t, const Snapshot& s) { return t < s.time; });
  auto count = static_cast<std::size_t>(std::distance(first, last));
  if (count > query.limit) first += static_cast<std::ptrdiff_t>(count - query.limit);
  return {first, last};
}

nlohmann::json SnapshotRing::query_json(const SnapshotQuery& query) const {
  auto found = this->query(query);
  nlohmann::json list = nlohmann::json::array();
  for (const auto& snapshot : found) list.push_back(to_json(snapshot));
  return {{"count", found.size()}, {"capacity", capacity_}, {"snapshots", std::move(list)}};
}

std::optional<Snapshot> SnapshotRing::latest() const {
  std::lock_guard lock(mutex_);
  if (snapshots_.empty()) return std::nullopt;
  return snapshots_.back();
}

std::size_t SnapshotRing::size() const {
  std::lock_guard lock(mutex_);
  return snapshots_.size();
}

}  // namespace guardian::monitor
