#pragma once
// What the three probe kinds share: ProbeDeadline (one attempt's clock, timeout and
// once-only answer) and AttemptProbe (the Probe that runs one attempt at a time).
#include <boost/asio/io_context.hpp>
#include <boost/asio/steady_timer.hpp>
#include <chrono>
#include <functional>
#include <memory>
#include <string>
#include <utility>

#include "guardian/health/probe.hpp"

namespace guardian::health {

/// One probe attempt's clock, timeout and answer: the latency runs from start_clock(),
/// the timeout from arm_timeout(), and the caller's callback is handed out once, never
/// after abandon().
class ProbeDeadline {
 public:
  ProbeDeadline(boost::asio::io_context& io, Probe::Done done) : timer_(io), done_(std::move(done)) {}

  void start_clock() { started_ = Clock::now(); }

  /// `on_timeout("timed out after 2s")` runs if the timeout passes before take(); it should
  /// hold what keeps the attempt alive (its shared_ptr).
  template <typename OnTimeout>
  void arm_timeout(std::chrono::milliseconds timeout, OnTimeout on_timeout) {
    timer_.expires_after(timeout);
    timer_.async_wait([timeout, handler = std::move(on_timeout)](const boost::system::error_code& error) mutable {
      if (!error) handler(timed_out_detail(timeout));
    });
  }

  /// The callback to answer with, or an empty one when the attempt was answered or
  /// abandoned already. Stops the timeout and sets `result.latency`.
  Probe::Done take(ProbeResult& result) {
    if (!done_) return {};
    auto done = std::exchange(done_, nullptr);
    result.latency = std::chrono::duration_cast<std::chrono::milliseconds>(Clock::now() - started_);
    timer_.cancel();
    return done;
  }

  /// No answer any more (the timeout still fires unless cancel_timeout()).
  void abandon() { done_ = nullptr; }
  void cancel_timeout() { timer_.cancel(); }

 private:
  using Clock = std::chrono::steady_clock;
  boost::asio::steady_timer timer_;
  Probe::Done done_;
  Clock::time_point started_{};
};

/// A Probe that runs one Attempt at a time: start() abandons the attempt in flight and
/// runs a new one made by `make(done)`. An Attempt has run(timeout) and abandon(), and is
/// owned by its pending handlers (the probe only keeps a handle to abandon it).
template <typename Attempt>
class AttemptProbe : public Probe {
 public:
  using Make = std::function<std::shared_ptr<Attempt>(Done done)>;
  explicit AttemptProbe(Make make) : make_(std::move(make)) {}
  ~AttemptProbe() override { cancel(); }

  void start(std::chrono::milliseconds timeout, Done done) override {
    cancel();
    current_ = make_(std::move(done));
    current_->run(timeout);
  }

  void cancel() override {
    if (current_) current_->abandon();
    current_.reset();
  }

 private:
  Make make_;
  std::shared_ptr<Attempt> current_;
};

}  // namespace guardian::health
