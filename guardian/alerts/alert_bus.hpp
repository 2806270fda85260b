// AlertBus: turns raised AlertSpecs into Alerts — deduplicated, rate-limited, journaled
// to alerts.jsonl, kept in a history ring — and hands each emitted one to subscribers.
#pragma once

#include <chrono>
#include <cstdint>
#include <deque>
#include <filesystem>
#include <functional>
#include <map>
#include <mutex>
#include <optional>
#include <string>
#include <system_error>
#include <vector>

#include <nlohmann/json.hpp>

#include "guardian/alerts/alert.hpp"
#include "guardian/alerts/alert_journal.hpp"

namespace guardian::alerts {

using WallClock = std::function<TimePoint()>;

struct AlertBusOptions {
  std::filesystem::path run_dir;  // journal goes to run_dir/alerts.jsonl; empty = no journal
  std::string run_id;             // copied into every event envelope
  std::chrono::milliseconds rate_limit_window{60'000};
  std::size_t history_capacity = 500;
  WallClock clock;  // empty = std::chrono::system_clock::now
};

enum class RaiseOutcome { emitted, suppressed };

struct RaiseResult {
  RaiseOutcome outcome = RaiseOutcome::suppressed;
  std::string dedup_key;
  std::uint64_t id = 0;                // the emitted alert's id (0 when suppressed)
  std::uint64_t suppressed_count = 0;  // emitted: how many it carries; suppressed: pending so far
  std::optional<std::uint64_t> resolved_id;  // the active alert this raise resolved
  std::error_code journal_error;             // the append failed (the alert was still dispatched)
};

class AlertBus {
 public:
  // Receives {"kind": "alert", "ts": ..., "run_id": ..., "alert": {...}} for every
  // emitted alert, in emission order, on the thread that called raise(). It must not
  // block (PluginHost::publish does not) and must not call back into this bus.
  using Subscriber = std::function<void(const nlohmann::json& event)>;

  explicit AlertBus(AlertBusOptions options);

  // Why the journal could not be opened ("opening /run/x/alerts.jsonl: Permission
  // denied; ..."), empty when it is fine. The bus works without a journal.
  const std::string& journal_problem() const { return journal_problem_; }
  std::filesystem::path journal_path() const;

  void subscribe(Subscriber subscriber);

  // Rules: an alert is emitted unless an alert with the same dedup key (type:subject)
  // and at least the same severity was emitted less than the window ago; then it is
  // counted and the next emission of that key carries the count. An escalation (warning
  // then critical under one key) is always emitted. A resolving type (SERVER_UP) marks
  // the active alert it resolves (SERVER_FLAPPING or SERVER_DOWN, same subject) resolved
  // and is then always emitted; after a resolution the next SERVER_DOWN is a new
  // incident and is emitted at once.
  // Emission order: journal append, history, then subscribers.
  RaiseResult raise(AlertSpec spec);

  // Marks the active alert with this dedup key resolved (e.g. RESOURCE_CRITICAL once
  // usage is back to normal). Returns false when nothing was active under that key.
  bool resolve(const std::string& dedup_key);

  // JSON arrays of alerts (to_json), oldest first; history keeps the last history_capacity.
  nlohmann::json history(std::size_t limit = SIZE_MAX) const;
  // Unresolved critical alerts, oldest first.
  nlohmann::json active() const;
  // For the run report: {"emitted": N, "suppressed": N, "by_type": {"SERVER_DOWN":
  // {"emitted": n, "suppressed": n}}, "by_severity": {"critical": n, ...}, "active": [...]}
  nlohmann::json summary() const;

 private:
  struct KeyState {
    TimePoint last_emitted{};
    std::uint64_t last_id = 0;
    Severity last_severity = Severity::info;
    std::uint64_t pending_suppressed = 0;
    bool resolved = false;
  };
  struct TypeCounts {
    std::uint64_t emitted = 0;
    std::uint64_t suppressed = 0;
  };

  TimePoint now() const;
  void mark_resolved_locked(const std::string& key, TimePoint when, std::optional<std::uint64_t> by);

  AlertBusOptions options_;
  mutable std::mutex mutex_;
  AlertJournal journal_;
  std::string journal_problem_;
  std::vector<Subscriber> subscribers_;
  std::uint64_t next_id_ = 1;
  std::map<std::string, KeyState> keys_;
  std::deque<Alert> history_;
  std::map<std::string, Alert> active_;  // by dedup key
  std::map<std::string, TypeCounts> by_type_;
  std::map<std::string, std::uint64_t> by_severity_;
  std::uint64_t emitted_total_ = 0;
  std::uint64_t suppressed_total_ = 0;
};

}  // namespace guardian::alerts
