// scopekit/async_exit_stack.hpp - a last-in-first-out stack of async cleanups.
//
// The counterpart of Python's contextlib.AsyncExitStack. enter() awaits an acquisition and
// registers the resource's async close(); push() registers any cleanup (a callable returning
// void, task<void> or another awaitable, optionally taking the error currently propagating).
// close() runs every cleanup in reverse order and is idempotent.
//
// Guarantees:
// - every cleanup runs, even when earlier ones throw; 10,000 entries unwind without recursion;
// - if an acquisition fails, nothing is registered; registering never fails after acquiring
//   (room is reserved first), so an acquired resource is always closed;
// - cleanups are shielded: they run with no stop token, so the stop that caused the exit does
//   not cut them short;
// - errors are never lost: close() rethrows the only error unchanged, or a scope_error whose
//   nested exception is the first and which lists every other (scopekit/scope_error.hpp).
//
// Allocation: none for the first 8 cleanups that fit in 3 pointers and move without throwing
// (beyond them, the overflow storage grows geometrically); enter() keeps each resource in one
// heap allocation (so references to it stay valid). close() runs synchronous cleanups without
// allocating; from the first asynchronous cleanup on it needs one coroutine frame, plus one per
// awaitable other than task<void>.
// Not thread-safe: one coroutine owns a stack. A destructor cannot await, so destroying a
// stack that still holds cleanups is a bug and aborts with a message; close() it, or use
// async_scope, which always does.
//
//   scopekit::async_exit_stack stack;
//   connection& db = co_await stack.enter(connection::open(address));
//   stack.push([&]() -> scopekit::task<> { co_await db.flush(); });
//   co_await stack.close();  // flush, then close, even if the flush throws
#pragma once

#include "scopekit/awaitable.hpp"
#include "scopekit/detail/cleanup_entry.hpp"
#include "scopekit/detail/coroutine_context.hpp"
#include "scopekit/scope_error.hpp"
#include "scopekit/task.hpp"

#include <algorithm>
#include <array>
#include <coroutine>
#include <cstddef>
#include <cstdio>
#include <cstdlib>
#include <exception>
#include <memory>
#include <mutex>
#include <optional>
#include <type_traits>
#include <utility>
#include <vector>

namespace scopekit {

/// A resource whose asynchronous close() can be awaited.
template <class R>
concept async_closeable = requires(R& r) {
  { r.close() } -> awaitable;
};

/// A cleanup push() accepts: callable with no arguments or with the error currently
/// propagating (`const std::exception_ptr&`, null if none), returning void or an awaitable.
template <class F>
concept async_cleanup = detail::cleanup_callable<std::decay_t<F>> &&
                        std::is_constructible_v<std::decay_t<F>, F>;

/// A LIFO stack of async cleanups. Move-only; pop_all() transfers every entry.
class async_exit_stack {
public:
  /// Cleanups kept without allocating.
  static constexpr std::size_t inline_capacity = 8;

  async_exit_stack() noexcept = default;

  async_exit_stack(async_exit_stack&& other) noexcept
      : overflow_(std::move(other.overflow_)), size_(std::exchange(other.size_, 0)) {
    for (std::size_t i = 0; i < std::min(size_, inline_capacity); ++i) {
      inline_[i] = std::move(other.inline_[i]);
    }
  }
  async_exit_stack& operator=(async_exit_stack&&) = delete;
  async_exit_stack(const async_exit_stack&) = delete;
  async_exit_stack& operator=(const async_exit_stack&) = delete;

  /// Aborts if cleanups are left: they were never run, and running them needs co_await.
  ~async_exit_stack() {
    if (size_ != 0) {
      std::fprintf(stderr,
                   "scopekit: async_exit_stack destroyed with %zu cleanup(s) never run; "
                   "co_await close() on every path (async_scope does)\n",
                   size_);
      std::abort();
    }
  }

  /// Registers `cleanup` to run at close(), before everything registered earlier.
  /// Throws std::bad_alloc (nothing registered) if there is no room and none can be made.
  template <async_cleanup F>
  void push(F&& cleanup) {
    reserve_one();
    place(detail::cleanup_entry(std::forward<F>(cleanup)));
  }

  /// Awaits `acquisition`, keeps the resource it yields and registers `resource.close()`.
  /// Returns a reference that stays valid until that close. If the acquisition throws,
  /// nothing is registered. If it yields a reference, that object is closed but not owned.
  /// Several enter()s may be suspended at once: each reserves its own entry.
  template <awaitable A>
    requires async_closeable<std::remove_cvref_t<await_result_t<A>>>
  task<std::remove_cvref_t<await_result_t<A>>&> enter(A acquisition) {
    return enter_locked(std::move(acquisition), nullptr);
  }

  /// Moves every entry to a new stack, leaving this one empty (Python's pop_all).
  [[nodiscard]] async_exit_stack pop_all() noexcept { return async_exit_stack{std::move(*this)}; }

  [[nodiscard]] std::size_t size() const noexcept { return size_; }
  [[nodiscard]] bool empty() const noexcept { return size_ == 0; }

  class close_awaiter;

  /// Runs every cleanup, last registered first, each seeing the error currently propagating
  /// (an earlier cleanup's, if one threw). Cleanups run in the awaiter's executor with no stop
  /// token. Afterwards the stack is empty; closing again does nothing. Rethrows by
  /// throw_errors(): the only error unchanged, several as a scope_error. Lazy: nothing runs
  /// until the result is awaited.
  [[nodiscard]] close_awaiter close() noexcept;

  /// Runs every cleanup like close(), appending each error to `errors` instead of throwing.
  /// `current` is the error already propagating (a body's), which the cleanups see first.
  [[nodiscard]] close_awaiter close_collecting(std::vector<std::exception_ptr>& errors,
                                               std::exception_ptr current) noexcept;

private:
  friend class async_scope;

  // Locks `mutex` if there is one: async_scope guards its stack, a bare stack needs none.
  class maybe_lock {
  public:
    explicit maybe_lock(std::mutex* mutex) : mutex_(mutex) {
      if (mutex_ != nullptr) {
        mutex_->lock();
      }
    }
    maybe_lock(const maybe_lock&) = delete;
    maybe_lock& operator=(const maybe_lock&) = delete;
    maybe_lock(maybe_lock&&) = delete;
    maybe_lock& operator=(maybe_lock&&) = delete;
    ~maybe_lock() {
      if (mutex_ != nullptr) {
        mutex_->unlock();
      }
    }

  private:
    std::mutex* mutex_;
  };

  // enter(), with the stack's state touched only under `mutex` (if not null). Room for the
  // entry is reserved before acquiring and kept per enter(), so that however many enter()s
  // are suspended at once, each one's registration cannot fail.
  template <class A>
  task<std::remove_cvref_t<await_result_t<A>>&> enter_locked(A acquisition, std::mutex* mutex) {
    using result = await_result_t<A>;
    using resource = std::remove_cvref_t<result>;
    {
      const maybe_lock lock{mutex};
      reserve_one();  // after acquiring, registering must not fail
    }
    if constexpr (std::is_lvalue_reference_v<result>) {
      resource* borrowed = nullptr;
      try {
        borrowed = &(co_await std::move(acquisition));
      } catch (...) {
        const maybe_lock lock{mutex};
        --reserved_;
        throw;
      }
      {
        const maybe_lock lock{mutex};
        place(detail::cleanup_entry([r = borrowed] { return r->close(); }));
      }
      co_return *borrowed;
    } else {
      // Allocated before acquiring, so that no allocation failure can strand the resource.
      std::unique_ptr<std::optional<resource>> storage;
      try {
        storage = std::make_unique<std::optional<resource>>();
        storage->emplace(co_await std::move(acquisition));
      } catch (...) {
        const maybe_lock lock{mutex};
        --reserved_;
        throw;
      }
      resource& owned = **storage;
      {
        const maybe_lock lock{mutex};
        place(detail::cleanup_entry([r = std::move(storage)] { return (*r)->close(); }));
      }
      co_return owned;
    }
  }

  // Reserves room for one more entry, so that placing it cannot fail. Grows geometrically:
  // reserving exactly one more each time would reallocate (and move every entry) per push.
  void reserve_one() {
    const std::size_t needed = size_ + reserved_ + 1;
    if (needed > inline_capacity && overflow_.capacity() < needed - inline_capacity) {
      overflow_.reserve(std::max(2 * overflow_.capacity(),
                                 std::max(needed - inline_capacity, inline_capacity)));
    }
    ++reserved_;
  }

  /// Records the error a cleanup threw. A cleanup that rethrows the error it was handed adds
  /// nothing: that error is already recorded (or is the body's, which the caller holds), and
  /// one error must not turn into a scope_error holding it twice (Python reports it once).
  static void record(std::vector<std::exception_ptr>& errors, std::exception_ptr& current,
                     std::exception_ptr thrown) {
    if (thrown != current) {
      errors.push_back(thrown);
      current = std::move(thrown);
    }
  }

  /// True if the entry on top runs without awaiting.
  [[nodiscard]] bool top_is_synchronous() const noexcept {
    return size_ <= inline_capacity ? inline_[size_ - 1].is_synchronous()
                                    : overflow_.back().is_synchronous();
  }

  /// Runs synchronous cleanups from the top until the stack is empty or an asynchronous one is
  /// on top; no coroutine frame is needed for them.
  void run_synchronous(std::vector<std::exception_ptr>& errors, std::exception_ptr& current) {
    while (size_ != 0 && top_is_synchronous()) {
      detail::cleanup_entry entry = take_last();
      try {
        entry.call(current);
      } catch (...) {
        record(errors, current, std::current_exception());
      }
    }
  }

  /// Runs every remaining cleanup (asynchronous ones in a shielded context).
  task<void> run_remaining(std::vector<std::exception_ptr>& errors, std::exception_ptr current) {
    const detail::coroutine_context shielded{co_await current_executor(), {}};
    while (size_ != 0) {
      detail::cleanup_entry entry = take_last();
      try {
        if (entry.is_synchronous()) {
          entry.call(current);
        } else {
          task<void> cleanup = entry.call_async(current);
          co_await cleanup.with_context(shielded);
        }
      } catch (...) {
        record(errors, current, std::current_exception());
      }
    }
  }

  void place(detail::cleanup_entry entry) noexcept {  // room was reserved
    --reserved_;
    if (size_ < inline_capacity) {
      inline_[size_] = std::move(entry);
    } else {
      overflow_.push_back(std::move(entry));
    }
    ++size_;
  }

  detail::cleanup_entry take_last() noexcept {
    --size_;
    if (size_ < inline_capacity) {
      return std::move(inline_[size_]);
    }
    detail::cleanup_entry last = std::move(overflow_.back());
    overflow_.pop_back();
    return last;
  }

  std::array<detail::cleanup_entry, inline_capacity> inline_{};
  std::vector<detail::cleanup_entry> overflow_;
  std::size_t size_ = 0;
  std::size_t reserved_ = 0;  // entries reserved by enter()s still acquiring
};

/// What close() and close_collecting() return. Awaiting it runs the synchronous cleanups on
/// top without a coroutine frame, and the rest (from the first asynchronous one on) in one
/// coroutine. Movable until awaited; await it once.
class [[nodiscard]] async_exit_stack::close_awaiter {
public:
  close_awaiter(async_exit_stack& stack, std::vector<std::exception_ptr>* sink,
                std::exception_ptr current) noexcept
      : stack_(&stack), sink_(sink), current_(std::move(current)) {}

  bool await_ready() {
    stack_->run_synchronous(errors(), current_);
    return stack_->empty();
  }

  // Everything from the first asynchronous cleanup on runs in one coroutine, which also runs
  // what the cleanups push while they run (as Python's ExitStack does), however few they are.
  template <class P>
  bool await_suspend(std::coroutine_handle<P> awaiting) {
    rest_ = stack_->run_remaining(errors(), current_);
    return rest_.operator co_await().await_suspend(awaiting);
  }

  void await_resume() {
    if (rest_.valid()) {
      rest_.operator co_await().await_resume();  // only an allocation failure can come out
    }
    if (sink_ == nullptr) {
      throw_errors(std::move(own_errors_));
    }
  }

private:
  std::vector<std::exception_ptr>& errors() noexcept {
    return sink_ != nullptr ? *sink_ : own_errors_;
  }

  async_exit_stack* stack_;
  std::vector<std::exception_ptr>* sink_;  // null: close() keeps and throws its own
  std::vector<std::exception_ptr> own_errors_;
  std::exception_ptr current_;
  task<void> rest_;
};

inline async_exit_stack::close_awaiter async_exit_stack::close() noexcept {
  return close_awaiter{*this, nullptr, nullptr};
}

inline async_exit_stack::close_awaiter async_exit_stack::close_collecting(
    std::vector<std::exception_ptr>& errors, std::exception_ptr current) noexcept {
  return close_awaiter{*this, &errors, std::move(current)};
}

}  // namespace scopekit
