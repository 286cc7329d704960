// scopekit/executor.hpp - where coroutines resume: the minimal executor notion.
//
// An executor runs posted continuations later, on its own thread(s), and fires timers. Tasks
// remember the executor they run on; anything that completes on a foreign thread (an I/O
// thread, a driver's callback) posts the awaiting coroutine back to that executor instead of
// resuming it inline. run_loop (scopekit/run_loop.hpp) is the executor sync_wait drives.
//
// The interface is intrusive and allocation-free for the caller: a timer_node lives in the
// awaiter that waits on it. post() is noexcept: once work is accepted it cannot be lost.
// Implementations document their own allocation behaviour.
//
// The timer contract on several threads: a cancel() that returns false means that fire has
// begun (or returned) on some thread; it does not wait for fire to return. From the moment
// fire begins the executor touches the node no more, so fire's own last access to the node is
// what its owner must wait for before freeing it (scopekit's timers publish that access with
// one atomic store; see docs/reference/executor.md).
//
//   class my_executor final : public scopekit::executor {
//     void post(std::coroutine_handle<> h) noexcept override { queue_.push(h); }
//     void schedule(scopekit::timer_node& t) override { ... }
//     bool cancel(scopekit::timer_node& t) noexcept override { ... }
//   };
#pragma once

#include <chrono>
#include <coroutine>

namespace scopekit {

/// A pending timer. Owned by whoever waits on it; registered with executor::schedule.
struct timer_node {
  using clock = std::chrono::steady_clock;

  /// When the timer is due.
  clock::time_point deadline{};
  /// Called once on one of the executor's threads after the deadline has passed, unless
  /// cancel() removed the node first. It may resume coroutines inline (it runs on the
  /// executor). The executor does not touch the node once fire has begun.
  void (*fire)(timer_node& self) noexcept = nullptr;
};

/// The executor interface. Implementations must make every member safe to call from any thread.
class executor {
public:
  using clock = timer_node::clock;

  /// Arranges for `continuation.resume()` to run later on this executor, never inline inside
  /// post(). Thread-safe. Cannot fail: an executor that needs memory to queue the continuation
  /// and cannot get it terminates, so a coroutine handed to post() is never stranded.
  virtual void post(std::coroutine_handle<> continuation) noexcept = 0;

  /// Registers `timer`: once `timer.deadline` has passed, `timer.fire(timer)` is called on this
  /// executor. The node must stay alive and unmodified until then or until a successful
  /// cancel(). Thread-safe. May throw std::bad_alloc.
  virtual void schedule(timer_node& timer) = 0;

  /// Removes a scheduled timer before it fires. Returns true if it was removed (fire will not
  /// be called), false if fire has begun (it may still be running on another thread: false
  /// does not wait for it to return) or the node was never scheduled. For a scheduled node
  /// exactly one of "fire is called" and "cancel returns true" happens. Thread-safe, and
  /// callable from inside a fire.
  [[nodiscard]] virtual bool cancel(timer_node& timer) noexcept = 0;

  virtual ~executor() = default;

protected:
  executor() = default;
  executor(const executor&) = default;
  executor& operator=(const executor&) = default;
  executor(executor&&) = default;
  executor& operator=(executor&&) = default;
};

}  // namespace scopekit
