#pragma once
// SnapshotRing: the last N snapshots (default 1000), oldest dropped first, queryable by
// wall-clock window. Thread-safe: the monitor pushes on the run's thread while the status
// API and plugins query from theirs.
#include <cstddef>
#include <deque>
#include <mutex>
#include <nlohmann/json.hpp>
#include <optional>
#include <vector>

#include "guardian/monitor/snapshot.hpp"

namespace guardian::monitor {

/// A time window [since, until], both ends optional and inclusive; `limit` keeps the newest.
struct SnapshotQuery {
  std::optional<WallTime> since;
  std::optional<WallTime> until;
  std::size_t limit = SIZE_MAX;
};

class SnapshotRing {
 public:
  explicit SnapshotRing(std::size_t capacity = 1000);

  void push(Snapshot snapshot);
  /// Snapshots in the window, oldest first.
  std::vector<Snapshot> query(const SnapshotQuery& query) const;
  /// {"count": n, "capacity": c, "snapshots": [...]} for the status API.
  nlohmann::json query_json(const SnapshotQuery& query) const;
  std::optional<Snapshot> latest() const;
  std::size_t size() const;
  std::size_t capacity() const { return capacity_; }

 private:
  std::size_t capacity_;
  mutable std::mutex mutex_;
  std::deque<Snapshot> snapshots_;
};

}  // namespace guardian::monitor
