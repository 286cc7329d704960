// scopekit/from_callback.hpp - await an API that reports its result through a callback.
//
// from_callback<T>(initiate, cancel) is an awaitable: co_await calls `initiate(done)` with a
// copyable completion `done` (it fits std::function<void(T)>), and suspends until the API calls
// `done(value)` or `done.fail(error)`, from any thread. A stop requested on the awaiting
// coroutine's token calls `cancel()` once and wakes the coroutine with stopped_error; a result
// that arrives after that (or twice, or after the coroutine has gone on) is dropped harmlessly.
// Exactly one of the result and the stop resumes the coroutine, exactly once, on its own
// executor (inline on the completing thread if it has none). If stop was requested before the
// co_await, initiate is not called and stopped_error is thrown.
//
// Name lambdas that capture by value before the co_await: GCC 12 destroys such a temporary
// written inside a co_await expression twice (GCC PR 100611; docs/reference/async_scope.md).
//
// Allocation: one shared state per co_await, kept alive by the copies of `done`. Thread safety:
// `done` may be called from any thread, concurrently with a stop request and with itself.
//
//   const int rows = co_await scopekit::from_callback<int>(
//       [&](scopekit::callback_completion<int> done) { api.count_rows(std::move(done)); },
//       [&]() noexcept { api.cancel(); });
#pragma once

#include "scopekit/context.hpp"
#include "scopekit/executor.hpp"
#include "scopekit/stopped_error.hpp"

#include <atomic>
#include <concepts>
#include <coroutine>
#include <exception>
#include <memory>
#include <optional>
#include <stop_token>
#include <type_traits>
#include <utility>

namespace scopekit {

namespace detail {

/// What a completion, a stop request and the awaiter share.
template <class T>
struct callback_state {
  using value_type = std::conditional_t<std::is_void_v<T>, bool, T>;
  std::atomic<bool> claimed{false};  // the first of result and stop claims the resumption
  std::atomic<bool> handoff{false};  // the second of await_suspend and the claimer resumes
  std::optional<value_type> value;
  std::exception_ptr error;
  executor* home = nullptr;
  std::coroutine_handle<> awaiting;

  [[nodiscard]] bool claim() noexcept { return !claimed.exchange(true, std::memory_order_acq_rel); }

  // After a claim and the outcome stored: resumes the coroutine unless await_suspend is still
  // running (it then goes on by itself). Nothing of this state is touched after resuming.
  void finish() noexcept {
    if (!handoff.exchange(true, std::memory_order_acq_rel)) {
      return;
    }
    executor* target = home;
    const std::coroutine_handle<> continuation = awaiting;
    if (target != nullptr) {
      target->post(continuation);
    } else {
      continuation.resume();
    }
  }
};

}  // namespace detail

/// The callback from_callback hands to `initiate`: copyable, callable from any thread, any
/// number of times; only the first result (if it comes before a stop) is delivered.
template <class T>
class callback_completion {
public:
  explicit callback_completion(std::shared_ptr<detail::callback_state<T>> state) noexcept
      : state_(std::move(state)) {}

  /// Delivers the value. Throws what T's move constructor throws (the result is then lost and
  /// the coroutine receives that exception instead).
  template <class U = T>
    requires(!std::is_void_v<T> && std::constructible_from<T, U>)
  void operator()(U&& value) const {
    if (state_->claim()) {
      try {
        state_->value.emplace(std::forward<U>(value));
      } catch (...) {
        state_->error = std::current_exception();
      }
      state_->finish();
    }
  }

  /// Delivers completion (for T = void).
  void operator()() const noexcept
    requires std::is_void_v<T>
  {
    if (state_->claim()) {
      state_->value.emplace(true);
      state_->finish();
    }
  }

  /// Delivers an error: the co_await rethrows it.
  void fail(const std::exception_ptr& error) const noexcept {
    if (state_->claim()) {
      state_->error = error;
      state_->finish();
    }
  }

private:
  std::shared_ptr<detail::callback_state<T>> state_;
};

/// The awaitable from_callback returns. Await it once.
template <class T, class Initiate, class Cancel>
class [[nodiscard]] callback_awaiter {
public:
  callback_awaiter(Initiate initiate, Cancel cancel)
      : initiate_(std::move(initiate)), cancel_(std::move(cancel)) {}
  callback_awaiter(callback_awaiter&&) = delete;  // returned as a prvalue, awaited in place
  callback_awaiter& operator=(callback_awaiter&&) = delete;
  callback_awaiter(const callback_awaiter&) = delete;
  callback_awaiter& operator=(const callback_awaiter&) = delete;
  ~callback_awaiter() = default;

  bool await_ready() const noexcept { return false; }

  /// Calls initiate, then watches the stop token. Returns false if the result (or a stop)
  /// came before this returns. Rethrows what initiate throws (the completion is then inert).
  template <class P>
  bool await_suspend(std::coroutine_handle<P> awaiting) {
    const coroutine_context& context = context_of(awaiting);
    if (context.stop.stop_requested()) {
      stopped_before_start_ = true;
      return false;
    }
    state_ = std::make_shared<detail::callback_state<T>>();
    state_->home = context.exec;
    state_->awaiting = awaiting;
    try {
      initiate_(callback_completion<T>{state_});
    } catch (...) {
      (void)state_->claim();  // a late call of the completion must not resume anything
      throw;
    }
    on_stop_.emplace(context.stop, stop_forwarder{this});
    return !state_->handoff.exchange(true, std::memory_order_acq_rel);
  }

  /// The value, or the error rethrown; stopped_error if a stop won.
  T await_resume() {
    on_stop_.reset();  // waits for a stop callback running on another thread
    if (stopped_before_start_) {
      throw stopped_error();
    }
    if (state_->error) {
      std::rethrow_exception(state_->error);
    }
    if constexpr (!std::is_void_v<T>) {
      return std::move(*state_->value);
    }
  }

private:
  // Runs on the thread that requests stop: cancels the operation if no result came first.
  struct stop_forwarder {
    callback_awaiter* self;
    void operator()() const noexcept {
      detail::callback_state<T>& state = *self->state_;
      if (state.claim()) {
        self->cancel_();
        state.error = std::make_exception_ptr(stopped_error());
        state.finish();
      }
    }
  };

  Initiate initiate_;
  Cancel cancel_;
  std::shared_ptr<detail::callback_state<T>> state_;
  std::optional<std::stop_callback<stop_forwarder>> on_stop_;
  bool stopped_before_start_ = false;
};

/// Awaiting it calls `initiate(callback_completion<T>)` and resumes with the result the API
/// delivers through it; a stop request calls `cancel()` (which must not throw) and resumes
/// with stopped_error. T is void or a move-constructible object type.
template <class T, class Initiate, class Cancel>
  requires(std::is_void_v<T> || std::move_constructible<T>) &&
          std::invocable<Initiate&, callback_completion<T>> && std::is_nothrow_invocable_v<Cancel&>
callback_awaiter<T, std::decay_t<Initiate>, std::decay_t<Cancel>> from_callback(Initiate&& initiate,
                                                                              Cancel&& cancel) {
  return {std::forward<Initiate>(initiate), std::forward<Cancel>(cancel)};
}

}  // namespace scopekit
