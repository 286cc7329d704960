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
// Allocation: none for the first 8 cleanups that fit in 3 pointers and move without throwing;
// enter() keeps each resource in one heap allocation (so references to it stay valid);
// close() allocates its coroutine frame, and awaitables other than task<void> one frame each.
// Not thread-safe: one coroutine owns a stack. A destructor cannot await, so destroying a
// stack that still holds cleanups is a bug and aborts with a message; close() it, or use
// async_scope, which always does.
//
//   scopekit::async_exit_stack stack;
//   connection& db = co_await stack.enter(connection::open(address));
//   stack.push([&]() -> scopekit::task<> { co_await db.flush(); });
//   co_await stack.close();  // flush, then close, even if the flush throws
#pragma once

#include "scopekit/detail/cleanup_entry.hpp"
#include "scopekit/detail/coroutine_context.hpp"
#include "scopekit/scope_error.hpp"
#include "scopekit/task.hpp"

#include <algorithm>
#include <array>
#include <cstddef>
#include <cstdio>
#include <cstdlib>
#include <exception>
#include <memory>
#include <optional>
#include <type_traits>
#include <utility>
#include <vector>

namespace scopekit {

/// A resource whose asynchronous close() can be awaited.
template <class R>
concept async_closeable = requires(R& r) {
  { r.close() } -> detail::awaitable;
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
  template <detail::awaitable A>
    requires async_closeable<std::remove_cvref_t<detail::await_result_t<A>>>
  task<std::remove_cvref_t<detail::await_result_t<A>>&> enter(A acquisition) {
    using result = detail::await_result_t<A>;
    using resource = std::remove_cvref_t<result>;
    reserve_one();  // after acquiring, registering must not fail
    if constexpr (std::is_lvalue_reference_v<result>) {
      resource& borrowed = co_await std::move(acquisition);
      place(detail::cleanup_entry([r = &borrowed] { return r->close(); }));
      co_return borrowed;
    } else {
      // Allocated before acquiring, so that no allocation failure can strand the resource.
      auto storage = std::make_unique<std::optional<resource>>();
      storage->emplace(co_await std::move(acquisition));
      resource& owned = **storage;
      place(detail::cleanup_entry([r = std::move(storage)] { return (*r)->close(); }));
      co_return owned;
    }
  }

  /// Moves every entry to a new stack, leaving this one empty (Python's pop_all).
  [[nodiscard]] async_exit_stack pop_all() noexcept { return async_exit_stack{std::move(*this)}; }

  [[nodiscard]] std::size_t size() const noexcept { return size_; }
  [[nodiscard]] bool empty() const noexcept { return size_ == 0; }

  /// Runs every cleanup, last registered first, each seeing the error currently propagating
  /// (an earlier cleanup's, if one threw). Cleanups run in the awaiter's executor with no stop
  /// token. Afterwards the stack is empty; closing again does nothing. Rethrows by
  /// throw_errors(): the only error unchanged, several as a scope_error.
  task<void> close() {
    std::vector<std::exception_ptr> errors;
    co_await close_collecting(errors, nullptr);
    throw_errors(std::move(errors));
  }

  /// Runs every cleanup like close(), appending each error to `errors` instead of throwing.
  /// `current` is the error already propagating (a body's), which the cleanups see first.
  task<void> close_collecting(std::vector<std::exception_ptr>& errors,
                              std::exception_ptr current) {
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
        current = std::current_exception();
        errors.push_back(current);
      }
    }
  }

private:
  void reserve_one() {
    if (size_ >= inline_capacity) {
      overflow_.reserve(size_ - inline_capacity + 1);
    }
  }

  void place(detail::cleanup_entry entry) noexcept {  // room was reserved
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
};

}  // namespace scopekit
