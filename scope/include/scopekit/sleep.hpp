// scopekit/sleep.hpp - suspend a coroutine until a time point, on its own executor.
//
// sleep_for / sleep_until register a timer with the awaiting coroutine's executor and resume
// on that executor when it fires. They observe the coroutine's stop token: a stop request
// wakes the sleeper at once (resumed on its executor) with stopped_error. Awaiting them in a
// coroutine that has no executor (not started by sync_wait, async_scope or another scopekit
// task) throws std::logic_error.
//
// Allocation: none of its own (the timer node lives in the awaiter); the executor may
// allocate to queue it.
//
//   co_await scopekit::sleep_for(std::chrono::milliseconds{10});
#pragma once

#include "scopekit/detail/coroutine_context.hpp"
#include "scopekit/executor.hpp"
#include "scopekit/stopped_error.hpp"

#include <atomic>
#include <chrono>
#include <coroutine>
#include <optional>
#include <stdexcept>
#include <stop_token>

namespace scopekit {

/// The awaiter behind sleep_until and sleep_for. Not movable: the executor holds its address.
class [[nodiscard]] sleep_awaiter : private timer_node {
public:
  explicit sleep_awaiter(executor::clock::time_point when) noexcept {
    this->deadline = when;
    this->fire = &on_fire;
  }
  sleep_awaiter(const sleep_awaiter&) = delete;
  sleep_awaiter& operator=(const sleep_awaiter&) = delete;
  sleep_awaiter(sleep_awaiter&&) = delete;
  sleep_awaiter& operator=(sleep_awaiter&&) = delete;
  ~sleep_awaiter() = default;

  bool await_ready() const noexcept { return false; }

  // Exactly one of the timer firing and a successful cancel by the stop callback completes the
  // sleep. The completer resumes the coroutine only if await_suspend has already returned
  // (state_ was `suspended`); otherwise await_suspend sees `completed` and does not suspend.
  // Once await_suspend has published `suspended` it touches nothing, since the coroutine may
  // be resumed (and this awaiter destroyed) on another thread at once.
  template <class P>
  bool await_suspend(std::coroutine_handle<P> h) {
    const detail::coroutine_context& ctx = detail::context_of(h);
    exec_ = ctx.exec;
    if (exec_ == nullptr) {
      throw std::logic_error("scopekit::sleep: the coroutine has no executor");
    }
    if (ctx.stop.stop_requested()) {
      stopped_ = true;
      return false;
    }
    continuation_ = h;
    exec_->schedule(*this);
    stop_callback_.emplace(ctx.stop, on_stop{this});  // may run on_stop inline
    return state_.exchange(state::suspended, std::memory_order_acq_rel) != state::completed;
  }

  /// Throws stopped_error if woken by a stop request.
  void await_resume() {
    stop_callback_.reset();  // waits for an on_stop running on another thread to return
    if (stopped_) {
      throw stopped_error{};
    }
  }

private:
  enum class state : unsigned char { arming, suspended, completed };

  // Called by whichever of fire/cancel won. The exchange is the completer's last access to
  // this awaiter (the executor's timer contract: a failed cancel() does not wait for fire to
  // return, so fire must not touch the node once the coroutine may go on): what it needs
  // afterwards is read before.
  void complete(executor* post_to) noexcept {
    const std::coroutine_handle<> continuation = continuation_;
    if (state_.exchange(state::completed, std::memory_order_acq_rel) == state::suspended) {
      if (post_to != nullptr) {
        post_to->post(continuation);
      } else {
        continuation.resume();  // the timer fired: already on the executor
      }
    }
  }

  static void on_fire(timer_node& node) noexcept {
    static_cast<sleep_awaiter*>(&node)->complete(nullptr);  // the node is this awaiter's base
  }

  struct on_stop {
    sleep_awaiter* self;
    void operator()() const noexcept {
      if (self->exec_->cancel(*self)) {
        self->stopped_ = true;
        self->complete(self->exec_);
      }
    }
  };

  executor* exec_ = nullptr;
  std::coroutine_handle<> continuation_;
  std::atomic<state> state_{state::arming};
  bool stopped_ = false;
  std::optional<std::stop_callback<on_stop>> stop_callback_;
};

/// Suspends until `deadline`, resuming on the current executor. Throws stopped_error if stop is
/// requested first.
[[nodiscard]] inline sleep_awaiter sleep_until(executor::clock::time_point deadline) noexcept {
  return sleep_awaiter{deadline};
}

/// Suspends for at least `duration` (see sleep_until).
template <class Rep, class Period>
[[nodiscard]] sleep_awaiter sleep_for(std::chrono::duration<Rep, Period> duration) noexcept {
  return sleep_awaiter{executor::clock::now() +
                       std::chrono::duration_cast<executor::clock::duration>(duration)};
}

}  // namespace scopekit
