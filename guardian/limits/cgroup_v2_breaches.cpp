// CgroupV2Limiter's ceiling breaches: what the kernel says through memory.events and
// pids.events, the memory.high stall watch and the endless-fork-bomb watch that end a tree the
// kernel only holds (see cgroup_v2_limiter.cpp for setup, sampling, killing and release).
#include "guardian/limits/cgroup_v2_limiter.hpp"

#include <fmt/format.h>

#include "guardian/config/quantity.hpp"
#include "guardian/limits/cgroup_formats.hpp"

namespace guardian::limits {

void CgroupV2Limiter::on_memory_events_modified() {
  if (memory_breach_reported_ || released_) return;
  auto events = memory::read_events(fs_, dir_);
  if (!events || events->oom_kill == 0) return;
  memory_breach_reported_ = true;
  Breach breach;
  breach.kind = Breach::Kind::memory_ceiling;
  breach.ceiling = options_.ceilings.memory_max_bytes.value_or(0);
  breach.peak = memory::read_peak(fs_, tree_dir_).value_or(breach.ceiling);
  breach.oom_kills = events->oom_kill;
  breach.kernel_killed = true;
  if (throttle_) breach.throttled_ms = static_cast<std::uint64_t>(throttle_->throttled().count());
  breach.message = fmt::format("memory ceiling: the tree reached its {} ceiling (peak {}); the kernel killed it "
                               "({} OOM kill{})",
                               config::format_bytes(breach.ceiling), config::format_bytes(breach.peak),
                               breach.oom_kills, breach.oom_kills == 1 ? "" : "s");
  report_breach(breach);
}

void CgroupV2Limiter::on_tree_memory_events_modified() {
  // Throttling started (memory.events "high" of the tree node moved): watch it until it stops.
  if (memory_breach_reported_ || released_ || throttle_) return;
  throttle_.emplace(options_.memory_high_stall);
  throttle_->update(throttle_reading());
  if (!throttle_timer_) throttle_timer_ = std::make_unique<boost::asio::steady_timer>(executor_);
  throttle_tick();
}

MemoryThrottleWatch::Reading CgroupV2Limiter::throttle_reading() const {
  MemoryThrottleWatch::Reading reading;
  reading.at = MemoryThrottleWatch::Clock::now();
  auto current = memory::read_current(fs_, tree_dir_);
  auto high = memory::read_high(fs_, tree_dir_);
  reading.over_high = current && high && *current > *high;
  if (auto text = fs_.read(tree_dir_, "memory.pressure"))
    if (auto pressure = parse_pressure(*text)) reading.full_stall_usec = pressure->full_total_usec;
  return reading;
}

void CgroupV2Limiter::throttle_tick() {
  // A tenth of the window, at least every 50 ms: the kill comes at most 10 % late.
  auto interval = std::max(std::chrono::milliseconds(50), options_.memory_high_stall / 10);
  throttle_timer_->expires_after(interval);
  throttle_timer_->async_wait([this](const boost::system::error_code& error) {
    if (error || released_ || memory_breach_reported_ || !throttle_) return;
    bool end = throttle_->update(throttle_reading());
    longest_throttle_ms_ =
        std::max(longest_throttle_ms_, static_cast<std::uint64_t>(throttle_->throttled().count()));
    if (end) return end_throttled_tree();
    if (!throttle_->throttling()) {
      throttle_.reset();  // it recovered: the next "high" event starts a new watch
      return;
    }
    throttle_tick();
  });
}

void CgroupV2Limiter::end_throttled_tree() {
  memory_breach_reported_ = true;
  Breach breach;
  breach.kind = Breach::Kind::memory_ceiling;
  breach.ceiling = options_.ceilings.memory_max_bytes.value_or(0);
  breach.peak = memory::read_peak(fs_, tree_dir_).value_or(breach.ceiling);
  breach.throttled_ms = static_cast<std::uint64_t>(throttle_->throttled().count());
  breach.kernel_killed = false;
  breach.grace = std::chrono::milliseconds(0);  // already killed: nothing to wait for
  auto high = memory::read_high(fs_, tree_dir_);
  breach.message = fmt::format(
      "memory ceiling: the kernel throttled the tree at memory.high ({} of its {} ceiling) for {} ms without "
      "reaching the ceiling (no swap to go to); guardian killed it",
      high ? config::format_bytes(*high) : std::string("?"), config::format_bytes(breach.ceiling),
      breach.throttled_ms);
  kill_now();
  report_breach(breach);
}

cpu::Stat CgroupV2Limiter::read_cpu() const {
  // The unit's own use; the throttling happens (and is counted) where cpu.max is: the tree node.
  cpu::Stat stat = cpu::read_stat(fs_, dir_).value_or(cpu::Stat{});
  if (auto tree = cpu::read_stat(fs_, tree_dir_)) {
    stat.nr_periods = tree->nr_periods;
    stat.nr_throttled = tree->nr_throttled;
    stat.throttled_usec = tree->throttled_usec;
  }
  return stat;
}

pids::Stat CgroupV2Limiter::read_pids() const {
  auto stat = pids::read_stat(fs_, dir_);
  auto tree = pids::read_stat(fs_, tree_dir_);
  stat.refused_forks = std::max(stat.refused_forks, tree.refused_forks);
  if (tree.peak) stat.peak = std::max(stat.peak.value_or(0), *tree.peak);
  return stat;
}

Breach CgroupV2Limiter::pids_breach(const pids::Stat& stat, bool tree_ended) const {
  Breach breach;
  breach.kind = Breach::Kind::pids_ceiling;
  breach.ceiling = options_.ceilings.pids_max.value_or(0);
  breach.peak = stat.peak.value_or(stat.current);
  breach.kernel_killed = false;
  breach.tree_ended = tree_ended;
  breach.grace = std::chrono::milliseconds(0);  // when ended, it is already killed
  breach.message =
      tree_ended ? fmt::format("pids ceiling: the tree kept forking against its ceiling of {} tasks for {} ms ({} forks "
                               "refused); guardian killed it",
                               breach.ceiling, options_.pids_grace.count(), stat.refused_forks)
                 : fmt::format("pids ceiling: the tree reached its ceiling of {} tasks; the kernel refuses its further "
                               "forks",
                               breach.ceiling);
  return breach;
}

void CgroupV2Limiter::on_pids_events_modified() {
  if (pids_tree_ended_ || released_) return;
  auto stat = read_pids();
  if (stat.refused_forks == 0) return;
  if (!pids_breach_reported_) {
    pids_breach_reported_ = true;
    report_breach(pids_breach(stat, false));
  }
  // Refusals going on: watch whether they stop (a tree that hit the ceiling once) or not.
  if (pids_watching_) return;
  pids_watching_ = true;
  if (!pids_timer_) pids_timer_ = std::make_unique<boost::asio::steady_timer>(executor_);
  pids_refused_seen_ = stat.refused_forks;
  pids_refusing_ticks_ = 0;
  pids_tick();
}

void CgroupV2Limiter::pids_tick() {
  constexpr int kTicks = 4;  // refusals in each of 4 ticks spanning the grace: it keeps forking
  pids_timer_->expires_after(options_.pids_grace / kTicks);
  pids_timer_->async_wait([this](const boost::system::error_code& error) {
    if (error || released_ || pids_tree_ended_) return;
    auto stat = read_pids();
    if (stat.refused_forks == pids_refused_seen_) {
      pids_watching_ = false;  // it stopped forking: the next refusal starts a new watch
      return;
    }
    pids_refused_seen_ = stat.refused_forks;
    if (++pids_refusing_ticks_ < kTicks) return pids_tick();
    pids_tree_ended_ = true;
    kill_now();
    report_breach(pids_breach(stat, true));
  });
}

}  // namespace guardian::limits
