#include "guardian/alerts/alert_bus.hpp"

#include <algorithm>
#include <utility>

namespace guardian::alerts {
namespace {

// The journal takes lines of at most one page (see AlertJournal). Alerts are short; a
// huge one keeps its identity in the journal and loses context, then message tail.
std::string journal_line(const nlohmann::json& alert_json) {
  const std::size_t limit = AlertJournal::max_line_bytes();
  std::string line = alert_json.dump(-1, ' ', false, nlohmann::json::error_handler_t::replace);
  if (line.size() <= limit) return line;
  nlohmann::json copy = alert_json;
  copy["context"] = nlohmann::json::object();
  copy["truncated_in_journal"] = true;
  line = copy.dump(-1, ' ', false, nlohmann::json::error_handler_t::replace);
  if (line.size() <= limit) return line;
  for (const char* field : {"message", "title", "subject"}) {
    std::string text = copy.value(field, std::string());
    const std::size_t excess = line.size() - limit;
    // Escaping can make the JSON longer than the text: cut generously, then re-check.
    std::size_t keep = text.size() > excess + 64 ? text.size() - excess - 64 : 0;
    while (keep > 0 && (static_cast<unsigned char>(text[keep]) & 0xC0) == 0x80) --keep;  // UTF-8 boundary
    copy[field] = text.substr(0, keep);
    line = copy.dump(-1, ' ', false, nlohmann::json::error_handler_t::replace);
    if (line.size() <= limit) return line;
  }
  return line;  // pathological (huge type/source); append() refuses it with message_size
}

}  // namespace

AlertBus::AlertBus(AlertBusOptions options) : options_(std::move(options)) {
  if (!options_.run_dir.empty()) {
    const auto path = options_.run_dir / "alerts.jsonl";
    if (auto ec = journal_.open(path)) {
      journal_problem_ = "opening " + path.string() + ": " + ec.message() +
                         "; alerts are still delivered to plugins but not journaled — check that the run "
                         "directory is writable";
    }
  }
}

std::filesystem::path AlertBus::journal_path() const { return journal_.path(); }

TimePoint AlertBus::now() const { return options_.clock ? options_.clock() : std::chrono::system_clock::now(); }

void AlertBus::subscribe(Subscriber subscriber) {
  std::lock_guard lock(mutex_);
  subscribers_.push_back(std::move(subscriber));
}

void AlertBus::mark_resolved_locked(const std::string& key, TimePoint when, std::optional<std::uint64_t> by) {
  auto it = active_.find(key);
  if (it == active_.end()) return;
  const auto id = it->second.id;
  active_.erase(it);
  for (auto& alert : history_) {
    if (alert.id == id) {
      alert.resolved_at = when;
      alert.resolved_by = by;
    }
  }
  if (auto k = keys_.find(key); k != keys_.end()) k->second.resolved = true;
}

RaiseResult AlertBus::raise(AlertSpec spec) {
  std::lock_guard lock(mutex_);
  const TimePoint time = now();
  RaiseResult result;
  result.dedup_key = make_dedup_key(spec.type, spec.subject);
  auto& type_counts = by_type_[std::string(to_string(spec.type))];

  // A resolving alert that finds something to resolve is news: never rate-limited.
  std::optional<std::string> resolves_key;
  for (AlertType target : resolved_types(spec.type)) {
    auto key = make_dedup_key(target, spec.subject);
    if (active_.count(key) != 0) {
      resolves_key = std::move(key);
      break;
    }
  }

  const Severity severity = spec.severity.value_or(default_severity(spec.type));
  auto& state = keys_[result.dedup_key];
  const bool seen_before = state.last_id != 0;
  const bool in_window = seen_before && time - state.last_emitted < options_.rate_limit_window;
  // A worse severity under the same key (a slow server now past the critical threshold) is
  // news too: the warning's window must not swallow it.
  const bool escalates = seen_before && rank(severity) > rank(state.last_severity);
  if (in_window && !state.resolved && !resolves_key && !escalates) {
    ++state.pending_suppressed;
    ++type_counts.suppressed;
    ++suppressed_total_;
    result.outcome = RaiseOutcome::suppressed;
    result.suppressed_count = state.pending_suppressed;
    return result;
  }

  Alert alert;
  alert.id = next_id_++;
  alert.time = time;
  alert.type = spec.type;
  alert.severity = severity;
  alert.subject = std::move(spec.subject);
  alert.dedup_key = result.dedup_key;
  alert.title = std::move(spec.title);
  alert.message = std::move(spec.message);
  alert.source = std::move(spec.source);
  alert.context = spec.context.is_null() ? nlohmann::json::object() : std::move(spec.context);
  alert.suppressed_count = state.pending_suppressed;

  if (resolves_key) {
    alert.resolves = active_.at(*resolves_key).id;
    result.resolved_id = alert.resolves;
    mark_resolved_locked(*resolves_key, time, alert.id);
  }

  state.last_emitted = time;
  state.last_id = alert.id;
  state.last_severity = alert.severity;
  state.pending_suppressed = 0;
  state.resolved = false;
  ++type_counts.emitted;
  ++by_severity_[std::string(to_string(alert.severity))];
  ++emitted_total_;

  nlohmann::json alert_json = to_json(alert);
  if (journal_.is_open()) result.journal_error = journal_.append(journal_line(alert_json));

  if (alert.severity == Severity::critical) active_[alert.dedup_key] = alert;
  history_.push_back(alert);
  while (history_.size() > options_.history_capacity) history_.pop_front();

  result.outcome = RaiseOutcome::emitted;
  result.id = alert.id;
  result.suppressed_count = alert.suppressed_count;

  if (!subscribers_.empty()) {
    const nlohmann::json event{{"kind", "alert"},
                               {"ts", alert_json["ts"]},
                               {"run_id", options_.run_id},
                               {"alert", std::move(alert_json)}};
    for (const auto& subscriber : subscribers_) subscriber(event);
  }
  return result;
}

bool AlertBus::resolve(const std::string& dedup_key) {
  std::lock_guard lock(mutex_);
  if (active_.count(dedup_key) == 0) return false;
  mark_resolved_locked(dedup_key, now(), std::nullopt);
  return true;
}

nlohmann::json AlertBus::history(std::size_t limit) const {
  std::lock_guard lock(mutex_);
  auto out = nlohmann::json::array();
  const std::size_t skip = history_.size() > limit ? history_.size() - limit : 0;
  for (std::size_t i = skip; i < history_.size(); ++i) out.push_back(to_json(history_[i]));
  return out;
}

nlohmann::json AlertBus::active() const {
  std::lock_guard lock(mutex_);
  std::vector<const Alert*> alerts;
  for (const auto& [key, alert] : active_) alerts.push_back(&alert);
  std::sort(alerts.begin(), alerts.end(), [](const Alert* a, const Alert* b) { return a->id < b->id; });
  auto out = nlohmann::json::array();
  for (const Alert* alert : alerts) out.push_back(to_json(*alert));
  return out;
}

nlohmann::json AlertBus::summary() const {
  nlohmann::json out{{"active", active()}};
  std::lock_guard lock(mutex_);
  out["emitted"] = emitted_total_;
  out["suppressed"] = suppressed_total_;
  out["by_type"] = nlohmann::json::object();
  for (const auto& [type, counts] : by_type_) {
    out["by_type"][type] = {{"emitted", counts.emitted}, {"suppressed", counts.suppressed}};
  }
  out["by_severity"] = nlohmann::json::object();
  for (const auto& [severity, count] : by_severity_) out["by_severity"][severity] = count;
  return out;
}

}  // namespace guardian::alerts
