// scopekit/async_scope.hpp - the C++ spelling of Python's `async with`, and a nursery.
//
// async_scope::run(body) runs `body(scope)` inside a new scope. In the body, scope.enter()
// acquires a resource that is closed at exit, scope.push() registers a cleanup, and
// scope.spawn() starts child work that is joined before the scope completes. On every exit
// path (return, exception, early return from a loop, stop requested by a parent, a deadline
// around the scope) the scope, in order:
//   1. requests stop on its children and body if the exit is a failure or a stop;
//   2. joins every child;
//   3. awaits every cleanup in LIFO order, shielded from the stop that caused the exit; each
//      cleanup can ask outcome() whether the scope succeeded, failed or was stopped;
//   4. completes with the body's value, or rethrows: the only error unchanged, several as a
//      scope_error (scopekit/scope_error.hpp) whose nested exception is the primary one.
// A failing child stops its siblings and the body. A stopped_error raised in obedience to the
// scope's own stop is not an error, and a scope ended by its own request_stop() completes
// without one (a stop from outside still throws stopped_error). spawn() after the scope has joined is refused with
// std::logic_error; destroying a scope with children still in flight aborts with a message.
//
// Threads: the body, children and cleanups run on the caller's executor, which may run several
// of them at once (a thread_pool). spawn(), request_stop(), enter() and push() are thread-safe:
// children may register cleanups concurrently (enter and push take the scope's lock).
// Allocation: one frame per spawned child (its own); per scope, run()'s frame, the body's
// frame, the exit coroutine's frame and the scope's std::stop_source state (an empty scope: 4),
// plus what async_exit_stack needs for the cleanups.
//
// A lambda body is named before the co_await that runs it: written inside the co_await, GCC 12
// destroys its captures twice (GCC PR 100611; docs/reference/async_scope.md).
//
//   auto body = [&](scopekit::async_scope& s) -> scopekit::task<> {
//     auto& rows = co_await s.enter(session.execute_stream(query));
//     s.spawn(heartbeat());
//     while (auto row = co_await rows.next()) consume(*row);
//   };
//   co_await scopekit::async_scope::run(body);  // heartbeat joined, rows closed, on every path
#pragma once

#include "scopekit/async_exit_stack.hpp"
#include "scopekit/awaitable.hpp"
#include "scopekit/detail/coroutine_context.hpp"
#include "scopekit/exit_condition.hpp"
#include "scopekit/executor.hpp"
#include "scopekit/scope_error.hpp"
#include "scopekit/stopped_error.hpp"
#include "scopekit/task.hpp"

#include <atomic>
#include <coroutine>
#include <cstddef>
#include <cstdio>
#include <cstdlib>
#include <exception>
#include <functional>
#include <mutex>
#include <optional>
#include <stdexcept>
#include <stop_token>
#include <string>
#include <string_view>
#include <type_traits>
#include <utility>
#include <vector>

namespace scopekit {

class async_scope;

namespace detail {
template <class T>
struct task_value {};
template <class T>
struct task_value<task<T>> {
  using type = T;
};
}  // namespace detail

/// A body async_scope::run accepts: called with the scope, returns task<T> (T void or an
/// object type).
template <class F>
concept scope_body = std::invocable<F&, async_scope&> &&
                     requires { typename detail::task_value<std::invoke_result_t<F&, async_scope&>>::type; };

/// A structured-concurrency scope with async cleanups. Only async_scope::run creates one.
class async_scope {
public:
  /// The T of the task<T> that body F returns.
  template <scope_body F>
  using body_value_t = typename detail::task_value<std::invoke_result_t<F&, async_scope&>>::type;

  /// Runs `body(scope)` in a new scope on the awaiter's executor, with a stop token that
  /// follows the awaiter's, then exits the scope as described at the top of this header.
  /// Throws std::logic_error if the awaiting coroutine has no executor.
  /// Pass a named body: a lambda with captures by value, or a braced function object, written
  /// inside the co_await expression is destroyed twice by GCC 12, in the caller's frame.
  template <scope_body F>
  static task<body_value_t<F>> run(F body) {
    using value_type = body_value_t<F>;
    executor* exec = co_await current_executor();
    if (exec == nullptr) {
      throw std::logic_error("scopekit::async_scope::run: the coroutine has no executor");
    }
    async_scope scope{*exec, co_await current_stop_token()};
    std::exception_ptr body_error;
    std::optional<std::conditional_t<std::is_void_v<value_type>, bool, value_type>> value;
    try {
      auto body_task = std::invoke(body, scope);
      if constexpr (std::is_void_v<value_type>) {
        co_await body_task.with_context(scope.context_);
        value.emplace(true);
      } else {
        value.emplace(co_await body_task.with_context(scope.context_));
      }
    } catch (...) {
      body_error = std::current_exception();
    }
    co_await scope.exit(std::move(body_error));  // rethrows what left the scope
    if constexpr (!std::is_void_v<value_type>) {
      if (!value) {
        throw scope.own_stopped_error();  // stopped by request_stop(): there is no value
      }
      co_return std::move(*value);
    }
  }

  /// Awaits `acquisition` and closes the resource it yields at exit (see
  /// async_exit_stack::enter). Thread-safe: children may call it concurrently.
  template <awaitable A>
    requires async_closeable<std::remove_cvref_t<await_result_t<A>>>
  task<std::remove_cvref_t<await_result_t<A>>&> enter(A acquisition) {
    return cleanups_.enter_locked(std::move(acquisition), &cleanups_mutex_);
  }

  /// Registers a cleanup to run at exit (see async_exit_stack::push). Thread-safe: children
  /// may call it concurrently.
  template <async_cleanup F>
  void push(F&& cleanup) {
    std::lock_guard lock{cleanups_mutex_};
    cleanups_.push(std::forward<F>(cleanup));
  }

  /// Starts any awaitable as a child (its result, if any, is dropped): a task<T>, a
  /// oneshot_receiver, an awaitable of another library. One coroutine frame wraps it (none for
  /// a task<void>). Otherwise as spawn(task<void>).
  template <awaitable A>
    requires(!std::is_same_v<std::remove_cvref_t<A>, task<void>>)
  void spawn(A&& child) {
    spawn(detail::await_as_task<std::decay_t<A>>(std::forward<A>(child)));
  }

  /// Starts `child` on the scope's executor with the scope's stop token; it is joined before
  /// the scope completes. If it throws, its error is kept and the scope stops its siblings
  /// and the body. Thread-safe. Throws std::logic_error if the scope has already joined (the
  /// child is destroyed unstarted), std::invalid_argument for an empty task.
  void spawn(task<void> child) {
    if (!child.valid()) {
      throw std::invalid_argument("scopekit::async_scope::spawn: empty task");
    }
    std::size_t count = pending_.load(std::memory_order_relaxed);
    do {
      if (count == 0) {
        throw std::logic_error("scopekit::async_scope::spawn: the scope has already joined");
      }
    } while (!pending_.compare_exchange_weak(count, count + 1, std::memory_order_acq_rel));
    auto handle = child.release();
    handle.promise().inherit_context(context_);
    handle.promise().set_completion_hook(&on_child_done, this);
    try {
      exec_->post(handle);
    } catch (...) {
      handle.destroy();
      release();
      throw;
    }
  }

  /// The scope's stop token: requested when the parent stops, a child or the body fails, or
  /// request_stop() is called.
  [[nodiscard]] std::stop_token get_stop_token() const noexcept { return stop_.get_token(); }

  /// Stops the body and the children; the scope then exits as stopped, without an error
  /// (Python's TaskGroup.cancel()): run() completes, with the body's value if it returned one,
  /// else (a value-less stopped body) throws stopped_error. A stop of the parent's token seen
  /// at the exit or during the cleanups is still reported as stopped_error: the scope's own
  /// stop never hides an outer one. Idempotent, thread-safe.
  void request_stop() noexcept { stop_because(stop_cause::requested); }

  /// request_stop() with a reason (Trio's cancel reason): the first reason given is kept, for
  /// stop_reason() and for the stopped_error the scope may throw. Throws std::bad_alloc (the
  /// stop is still requested, without the reason).
  void request_stop(std::string_view reason) {
    {
      std::lock_guard lock{mutex_};
      if (cause_ == stop_cause::none) {
        try {
          reason_ = reason;
        } catch (...) {
          cause_ = stop_cause::requested;
          stop_.request_stop();
          throw;
        }
      }
    }
    request_stop();
  }

  /// The reason given to the first request_stop that stopped the scope; empty if none.
  /// Thread-safe. Throws std::bad_alloc.
  [[nodiscard]] std::string stop_reason() const {
    std::lock_guard lock{mutex_};
    return reason_;
  }

  /// How the scope ended, for cleanups: running while the body runs, then success, failure or
  /// stopped. Thread-safe.
  [[nodiscard]] scopekit::outcome outcome() const noexcept {
    return outcome_.load(std::memory_order_acquire);
  }

  async_scope(const async_scope&) = delete;
  async_scope& operator=(const async_scope&) = delete;
  async_scope(async_scope&&) = delete;
  async_scope& operator=(async_scope&&) = delete;

  /// Aborts if children are still in flight: nothing could join them any more.
  ~async_scope() {
    const std::size_t in_flight = pending_.load(std::memory_order_acquire) - (joining_ ? 0 : 1);
    if (in_flight != 0) {
      std::fprintf(stderr,
                   "scopekit: async_scope destroyed with %zu child task(s) still running; "
                   "its run() was destroyed before it could join them\n",
                   in_flight);
      std::abort();
    }
  }

private:
  // Why the scope stopped, the first cause kept: request_stop(), the parent's token, a failing
  // body or child, or a body that gave up with stopped_error on its own.
  enum class stop_cause : unsigned char { none, requested, parent, failure, gave_up };

  struct forward_parent_stop {
    async_scope* scope;
    void operator()() const noexcept { scope->stop_because(stop_cause::parent); }
  };

  async_scope(executor& exec, const std::stop_token& parent)
      : exec_(&exec), parent_(parent), context_{&exec, stop_.get_token()} {
    parent_stop_.emplace(parent, forward_parent_stop{this});
  }

  void stop_because(stop_cause cause) noexcept {
    {
      std::lock_guard lock{mutex_};
      if (cause_ == stop_cause::none) {
        cause_ = cause;
      }
    }
    stop_.request_stop();
  }

  // The stopped_error of a scope that request_stop() ended, with the reason if one was given.
  [[nodiscard]] stopped_error own_stopped_error() const {
    const std::string reason = stop_reason();
    return reason.empty() ? stopped_error{} : stopped_error{"scopekit: operation stopped: " + reason};
  }

  static bool is_stop(const std::exception_ptr& error) noexcept {
    try {
      std::rethrow_exception(error);
    } catch (const stopped_error&) {
      return true;
    } catch (...) {
      return false;
    }
  }

  // Runs on whichever thread completed the child. Order matters (the classic race): free the
  // frame, record the error, and only then give up the child's reference, which is the last
  // touch of the scope (P3149R6: deallocate before disassociating).
  static void on_child_done(void* self, std::coroutine_handle<> done) noexcept {
    auto* scope = static_cast<async_scope*>(self);
    auto handle = task<void>::handle_type::from_address(done.address());
    std::exception_ptr error;
    try {
      handle.promise().take();
    } catch (...) {
      error = std::current_exception();
    }
    handle.destroy();
    if (error) {
      scope->child_failed(std::move(error));
    }
    scope->release();
  }

  void child_failed(std::exception_ptr error) noexcept {
    if (is_stop(error) && stop_.stop_requested()) {
      return;  // it obeyed the scope's stop: not an error
    }
    {
      std::lock_guard lock{mutex_};
      child_errors_.push_back(std::move(error));  // may throw bad_alloc: terminates
      if (cause_ == stop_cause::none) {
        cause_ = stop_cause::failure;
      }
    }
    stop_.request_stop();
  }

  // Gives up one reference (a child's, or the joiner's). The last one resumes the joiner,
  // which is suspended by then; nothing of the scope is touched after posting it.
  void release() noexcept {
    if (pending_.fetch_sub(1, std::memory_order_acq_rel) == 1) {
      executor* exec = exec_;
      std::coroutine_handle<> joiner = joiner_;
      exec->post(joiner);
    }
  }

  struct join_awaiter {
    async_scope* scope;
    bool await_ready() const noexcept { return false; }
    bool await_suspend(std::coroutine_handle<> joiner) const noexcept {
      scope->joiner_ = joiner;
      scope->joining_ = true;
      // Give up the joiner's own reference; if children remain, the last one resumes us.
      return scope->pending_.fetch_sub(1, std::memory_order_acq_rel) != 1;
    }
    void await_resume() const noexcept {}
  };

  task<void> exit(std::exception_ptr body_error) {
    const bool body_stopped = body_error && is_stop(body_error);
    if (body_error && !body_stopped) {
      stop_because(stop_cause::failure);
    } else if (body_stopped) {
      stop_because(stop_cause::gave_up);  // keeps an earlier cause (parent, failure, request)
    }
    co_await join_awaiter{this};

    std::vector<std::exception_ptr> errors;
    stop_cause cause = stop_cause::none;
    bool own_stop_only = false;
    {
      std::lock_guard lock{mutex_};
      cause = cause_;
      if (body_error && !body_stopped) {
        errors.push_back(body_error);
      }
      errors.insert(errors.end(), child_errors_.begin(), child_errors_.end());
    }
    if (!errors.empty()) {
      outcome_.store(outcome::failure, std::memory_order_release);
    } else if (body_stopped || cause != stop_cause::none) {
      outcome_.store(outcome::stopped, std::memory_order_release);
      // request_stop() alone ends the scope without an error (Python's TaskGroup.cancel()),
      // but never hides a stop from outside: the parent's token is checked now and again after
      // the cleanups (CPython's TaskGroup loses an outer cancellation there).
      own_stop_only = cause == stop_cause::requested && !parent_.stop_requested();
      if (!own_stop_only) {
        errors.push_back(body_stopped ? body_error : std::make_exception_ptr(stopped_error{}));
      }
    } else {
      outcome_.store(outcome::success, std::memory_order_release);
    }
    const std::exception_ptr current = errors.empty() ? nullptr : errors.front();
    co_await cleanups_.close_collecting(errors, current);
    if (own_stop_only && errors.empty() && parent_.stop_requested()) {
      errors.push_back(std::make_exception_ptr(stopped_error{}));  // the outer stop came meanwhile
    }
    throw_errors(std::move(errors));
  }

  executor* exec_;
  std::stop_token parent_;  // the awaiter's: its stop is never hidden by the scope's own
  mutable std::mutex mutex_;   // guards cause_, reason_ and child_errors_
  std::mutex cleanups_mutex_;  // guards cleanups_ while children may touch it
  std::stop_source stop_;
  detail::coroutine_context context_;
  stop_cause cause_ = stop_cause::none;
  std::string reason_;  // guarded by mutex_
  std::vector<std::exception_ptr> child_errors_;
  std::atomic<std::size_t> pending_{1};  // children in flight, plus one until the join
  std::coroutine_handle<> joiner_;
  bool joining_ = false;
  std::atomic<scopekit::outcome> outcome_{outcome::running};
  async_exit_stack cleanups_;
  // Last member: destroyed first, so the parent's stop cannot reach a half-destroyed scope.
  std::optional<std::stop_callback<forward_parent_stop>> parent_stop_;
};

}  // namespace scopekit
