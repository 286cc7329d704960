// scopekit/deadline.hpp - run a task under a deadline.
//
// with_deadline(deadline, work) runs `work` with a stop token that is requested when the
// deadline passes (or when the awaiter's own token is). If `work` then gives up with
// stopped_error because of the deadline, the caller gets timeout_error; a stop that came from
// the caller stays a stopped_error. Cancellation is cooperative: `work` ends when what it
// awaits observes the token (sleep_for, async_scope, the CQL adapter's operations do).
//
// Wrapped around async_scope::run, a deadline is one more exit path of the scope: its
// children are stopped, its cleanups run (shielded), then timeout_error reaches the caller.
//
// Allocation: the combinator's coroutine frame, its std::stop_source's shared state, and the
// executor's timer queue entry.
//
//   auto rows = co_await scopekit::with_timeout(std::chrono::seconds{5}, fetch_all(query));
#pragma once

#include "scopekit/executor.hpp"
#include "scopekit/stopped_error.hpp"
#include "scopekit/task.hpp"

#include <atomic>
#include <chrono>
#include <stdexcept>
#include <stop_token>
#include <thread>
#include <utility>

namespace scopekit {

namespace detail {

/// A timer that requests stop on a source when it fires; cancelled when destroyed.
///
/// The executor's timer contract: a cancel() that returns false means fire has begun, possibly
/// on another thread, and may still be running. So on_fire takes what it needs (a copy of the
/// stop source) and then publishes, with one atomic store, that it is done with the node; the
/// destructor, after a failed cancel, waits for that store before the node is freed. The wait
/// is a few instructions long: on_fire requests stop only after the store, on its own copy,
/// so a coroutine resumed inline by that request may destroy the timer without waiting.
class deadline_timer : private timer_node {
public:
  deadline_timer(executor& exec, executor::clock::time_point when, std::stop_source source)
      : exec_(&exec), source_(std::move(source)) {
    this->deadline = when;
    this->fire = &on_fire;
    exec_->schedule(*this);
  }
  deadline_timer(const deadline_timer&) = delete;
  deadline_timer& operator=(const deadline_timer&) = delete;
  deadline_timer(deadline_timer&&) = delete;
  deadline_timer& operator=(deadline_timer&&) = delete;
  ~deadline_timer() {
    if (!exec_->cancel(*this)) {
      while (!expired_.load(std::memory_order_acquire)) {  // fire has begun: wait for its end
        std::this_thread::yield();
      }
    }
  }

  [[nodiscard]] bool expired() const noexcept { return expired_.load(std::memory_order_acquire); }

private:
  static void on_fire(timer_node& node) noexcept {
    auto* self = static_cast<deadline_timer*>(&node);  // the node is this timer's base
    std::stop_source source = self->source_;  // a reference count: no allocation
    self->expired_.store(true, std::memory_order_release);  // the last access to the timer
    source.request_stop();
  }

  executor* exec_;
  std::stop_source source_;
  std::atomic<bool> expired_{false};
};

}  // namespace detail

/// Runs `work` and returns its result; if `deadline` passes first, `work` is asked to stop and
/// the caller gets timeout_error. Throws std::logic_error if the caller has no executor.
template <class T>
task<T> with_deadline(executor::clock::time_point deadline, task<T> work) {
  executor* exec = co_await current_executor();
  if (exec == nullptr) {
    throw std::logic_error("scopekit::with_deadline: the coroutine has no executor");
  }
  std::stop_source source;
  std::stop_callback forward_caller_stop{co_await current_stop_token(),
                                         [&source]() noexcept { source.request_stop(); }};
  detail::deadline_timer timer{*exec, deadline, source};
  const coroutine_context context{exec, source.get_token()};
  try {
    co_return co_await work.with_context(context);
  } catch (const stopped_error&) {
    if (timer.expired()) {
      throw timeout_error{};
    }
    throw;
  }
}

/// with_deadline(now + timeout, work).
template <class T, class Rep, class Period>
task<T> with_timeout(std::chrono::duration<Rep, Period> timeout, task<T> work) {
  return with_deadline(executor::clock::now() +
                           std::chrono::duration_cast<executor::clock::duration>(timeout),
                       std::move(work));
}

}  // namespace scopekit
