// scopekit/task.hpp - a lazy, move-only coroutine that produces a T (or throws).
//
// A task does nothing until it is awaited. Awaiting it starts it; a task that completes
// synchronously hands control back without nesting, and one that completes later resumes its
// awaiter by symmetric transfer, so a million sequential co_awaits use constant stack on every
// compiler and optimisation level. Values, references, void and exceptions
// propagate. A task inherits its awaiter's executor and stop token (the coroutine_context), so
// cancellation flows from a parent to what it awaits.
//
// Allocation: one coroutine frame per call (the compiler may elide it). Thread safety: a task
// is awaited once, by one coroutine; what it awaits decides where it resumes.
//
//   scopekit::task<int> answer() { co_return 42; }
//   scopekit::task<void> caller() {
//     const int a = co_await answer();
//     std::stop_token stop = co_await scopekit::current_stop_token();
//   }
#pragma once

#include "scopekit/context.hpp"
#include "scopekit/detail/coroutine_context.hpp"
#include "scopekit/executor.hpp"

#include <atomic>
#include <coroutine>
#include <stop_token>
#include <utility>

namespace scopekit {

template <class T = void>
class task;

namespace detail {

/// What every scopekit coroutine promise shares: lazy start, symmetric-transfer completion,
/// and the context it inherits (or was given).
class task_promise_base {
public:
  std::suspend_always initial_suspend() noexcept { return {}; }

  // Completion hands the parent back without growing the stack, whether or not the compiler
  // turns symmetric transfer into a tail call (GCC 12 does so only when optimising). Whoever
  // of the task's completion and the awaiter's await_suspend comes second continues the
  // parent: if the task completed while await_suspend was still running (synchronous
  // completion), await_suspend returns false and the parent simply goes on in its own frame;
  // otherwise the final awaiter transfers to the parent.
  struct final_awaiter {
    bool await_ready() noexcept { return false; }
    template <class P>
    std::coroutine_handle<> await_suspend(std::coroutine_handle<P> done) noexcept {
      task_promise_base& self = done.promise();
      if (self.on_complete_ != nullptr) {
        // A detached root: the hook takes the result and may destroy this frame.
        self.on_complete_(self.on_complete_context_, done);
        return std::noop_coroutine();
      }
      if (self.handoff_.exchange(true, std::memory_order_acq_rel)) {
        // The parent is suspended: transfer to it (a root may have no parent at all).
        return self.continuation_ ? self.continuation_ : std::noop_coroutine();
      }
      return std::noop_coroutine();  // the parent's await_suspend will carry on
    }
    void await_resume() noexcept {}
  };
  final_awaiter final_suspend() noexcept { return {}; }

  /// Starts this coroutine for `parent`; returns false if it already completed (the parent
  /// must not suspend), true if it will resume `parent` when it completes.
  bool start_for(std::coroutine_handle<> self, std::coroutine_handle<> parent) noexcept {
    continuation_ = parent;
    self.resume();
    return !handoff_.exchange(true, std::memory_order_acq_rel);
  }

  [[nodiscard]] const coroutine_context& context() const noexcept { return *context_; }

  /// Runs this coroutine in `ctx` (which must outlive it) instead of its own context.
  void inherit_context(const coroutine_context& ctx) noexcept { context_ = &ctx; }
  /// Gives this coroutine a context of its own (for roots: sync_wait, spawned work).
  void set_own_context(coroutine_context ctx) noexcept {
    own_context_ = std::move(ctx);
    context_ = &own_context_;
  }

  /// For roots that are resumed by hand (sync_wait): resume `continuation` at completion.
  void set_continuation(std::coroutine_handle<> continuation) noexcept {
    continuation_ = continuation;
    handoff_.store(true, std::memory_order_relaxed);
  }

  /// Called, instead of resuming a parent, when a detached root completes. It runs on the
  /// thread that completed the coroutine and may destroy the frame.
  using completion_hook = void (*)(void* context, std::coroutine_handle<> self) noexcept;

  /// Makes this coroutine a detached root that reports its completion to `hook`.
  void set_completion_hook(completion_hook hook, void* context) noexcept {
    on_complete_ = hook;
    on_complete_context_ = context;
  }

private:
  std::coroutine_handle<> continuation_;
  std::atomic<bool> handoff_{false};
  completion_hook on_complete_ = nullptr;
  void* on_complete_context_ = nullptr;
  coroutine_context own_context_;
  const coroutine_context* context_ = &own_context_;
};

template <class T>
class task_promise final : public task_promise_base, public result_slot<T> {
public:
  task<T> get_return_object() noexcept;
};

}  // namespace detail

/// A lazily started coroutine producing T. Move-only; destroying a task that never ran (or has
/// finished) destroys its frame. Destroying one that is suspended mid-way is allowed only if
/// nothing will resume it.
template <class T>
class [[nodiscard]] task {
public:
  using promise_type = detail::task_promise<T>;
  using handle_type = std::coroutine_handle<promise_type>;

  task() noexcept = default;
  task(task&& other) noexcept : handle_(std::exchange(other.handle_, {})) {}
  task& operator=(task&& other) noexcept {
    if (this != &other) {
      destroy();
      handle_ = std::exchange(other.handle_, {});
    }
    return *this;
  }
  task(const task&) = delete;
  task& operator=(const task&) = delete;
  ~task() { destroy(); }

  /// True if this task owns a coroutine.
  [[nodiscard]] bool valid() const noexcept { return static_cast<bool>(handle_); }

  class awaiter {
  public:
    explicit awaiter(handle_type h, const coroutine_context* context = nullptr) noexcept
        : handle_(h), context_(context) {}
    bool await_ready() const noexcept { return false; }
    /// Starts the task in the awaiter's context (or the one given to with_context). Suspends
    /// the parent only if the task did not complete synchronously; completion resumes the
    /// parent by symmetric transfer.
    template <class P>
    bool await_suspend(std::coroutine_handle<P> parent) noexcept {
      if (context_ != nullptr) {
        handle_.promise().inherit_context(*context_);
      } else if constexpr (detail::context_promise<P>) {
        handle_.promise().inherit_context(parent.promise().context());
      }
      return handle_.promise().start_for(handle_, parent);
    }
    /// The task's value, or its exception rethrown.
    T await_resume() { return handle_.promise().take(); }

  private:
    handle_type handle_;
    const coroutine_context* context_;
  };

  /// Awaiting this runs the task in `context` (which must outlive the task's run) instead of
  /// the awaiter's: how scopes give their body their own stop token, and cleanups none. To
  /// move the task to another executor as well, see on() (scopekit/on.hpp).
  [[nodiscard]] awaiter with_context(const coroutine_context& context) & noexcept {
    return awaiter{handle_, &context};
  }

  /// Awaiting runs the task to completion; the task object must outlive the co_await.
  awaiter operator co_await() && noexcept { return awaiter{handle_}; }
  awaiter operator co_await() & noexcept { return awaiter{handle_}; }

  /// The coroutine handle, for executors and adaptors (sync_wait, async_scope::spawn).
  [[nodiscard]] handle_type handle() const noexcept { return handle_; }
  /// Gives up ownership of the frame.
  [[nodiscard]] handle_type release() noexcept { return std::exchange(handle_, {}); }

private:
  friend class detail::task_promise<T>;
  explicit task(handle_type h) noexcept : handle_(h) {}

  void destroy() noexcept {
    if (handle_) {
      handle_.destroy();
    }
  }

  handle_type handle_;
};

template <class T>
task<T> detail::task_promise<T>::get_return_object() noexcept {
  return task<T>{task<T>::handle_type::from_promise(*this)};
}

namespace detail {
/// Reads one field of the awaiting coroutine's context without suspending.
template <class Field, Field coroutine_context::*member>
struct context_reader {
  Field value{};
  bool await_ready() const noexcept { return false; }
  template <class P>
  bool await_suspend(std::coroutine_handle<P> h) noexcept {
    value = context_of(h).*member;
    return false;
  }
  Field await_resume() noexcept { return std::move(value); }
};
}  // namespace detail

/// `co_await current_stop_token()` in a scopekit coroutine yields the stop token it observes
/// (inherited from whoever awaits or spawned it). Never suspends.
[[nodiscard]] inline auto current_stop_token() noexcept {
  return detail::context_reader<std::stop_token, &detail::coroutine_context::stop>{};
}

/// `co_await current_executor()` yields the executor the coroutine resumes on (null if it was
/// started outside any executor). Never suspends.
[[nodiscard]] inline auto current_executor() noexcept {
  return detail::context_reader<executor*, &detail::coroutine_context::exec>{};
}

}  // namespace scopekit
