// scopekit/oneshot.hpp - one value, delivered once from any thread, to one awaiting coroutine.
//
// make_oneshot<T>() returns a sender and a receiver that share one state. The sender may live
// on a foreign thread (an I/O thread, a driver's callback): set_value / set_exception deliver
// the result, and the awaiting coroutine is resumed on its own executor, never inline on the
// sender's thread - unless the awaiter asked for that explicitly with resume_inline(). The
// awaiter observes its stop token: a stop request wakes it (on its executor) with
// stopped_error, and a result that arrives later is discarded. A sender destroyed without
// delivering gives the receiver broken_oneshot.
//
// Allocation: one shared state per make_oneshot. Thread safety: the sender and the receiver
// may be used from different threads; each one by one thread at a time.
//
//   auto [tx, rx] = scopekit::make_oneshot<page>();
//   driver.on_page([tx = std::move(tx)](page p) mutable { tx.set_value(std::move(p)); });
//   page first = co_await std::move(rx);   // resumed on this task's executor
#pragma once

#include "scopekit/detail/coroutine_context.hpp"
#include "scopekit/executor.hpp"
#include "scopekit/stopped_error.hpp"

#include <coroutine>
#include <exception>
#include <memory>
#include <mutex>
#include <optional>
#include <stdexcept>
#include <stop_token>
#include <type_traits>
#include <utility>

namespace scopekit {

/// The receiver's error when the sender was destroyed without delivering a result.
class broken_oneshot : public std::logic_error {
public:
  broken_oneshot() : std::logic_error("scopekit: oneshot sender destroyed without a result") {}
};

namespace detail {

template <class T>
struct oneshot_state {
  std::mutex mutex;
  std::optional<T> value;
  std::exception_ptr error;
  bool delivered = false;         // value or error is set
  bool abandoned = false;         // the receiver gave up (stopped or destroyed)
  bool stop_requested = false;    // the awaiter's stop came before it suspended
  std::coroutine_handle<> waiter;  // set while a coroutine is suspended on the receiver
  executor* exec = nullptr;
  bool resume_inline = false;
  bool* waiter_stopped = nullptr;  // the awaiter's flag, set when a stop wakes it
};

}  // namespace detail

template <class T>
class oneshot_receiver;

/// The producing side. Move-only. Delivering twice throws std::logic_error.
template <class T>
class oneshot_sender {
public:
  oneshot_sender(oneshot_sender&&) noexcept = default;
  oneshot_sender& operator=(oneshot_sender&& other) noexcept {
    if (this != &other) {
      abandon();
      state_ = std::move(other.state_);
    }
    return *this;
  }
  oneshot_sender(const oneshot_sender&) = delete;
  oneshot_sender& operator=(const oneshot_sender&) = delete;
  /// Delivers broken_oneshot if nothing was delivered.
  ~oneshot_sender() { abandon(); }

  /// Delivers a value. Returns false if the receiver already gave up (the value is dropped).
  template <class U = T>
    requires std::is_constructible_v<T, U>
  bool set_value(U&& value) {
    return deliver([&](detail::oneshot_state<T>& s) { s.value.emplace(std::forward<U>(value)); });
  }

  /// Delivers an error. Returns false if the receiver already gave up.
  bool set_exception(const std::exception_ptr& error) {
    return deliver([&](detail::oneshot_state<T>& s) { s.error = error; });
  }

  /// True while a result can still be delivered.
  [[nodiscard]] bool valid() const noexcept { return state_ != nullptr; }

private:
  template <class U>
  friend std::pair<oneshot_sender<U>, oneshot_receiver<U>> make_oneshot();
  explicit oneshot_sender(std::shared_ptr<detail::oneshot_state<T>> state) noexcept
      : state_(std::move(state)) {}

  template <class Store>
  bool deliver(Store store) {
    if (!state_) {
      throw std::logic_error("scopekit::oneshot_sender: result already delivered");
    }
    auto state = std::move(state_);
    std::coroutine_handle<> waiter;
    {
      std::lock_guard lock{state->mutex};
      if (state->abandoned) {
        return false;
      }
      store(*state);
      state->delivered = true;
      waiter = std::exchange(state->waiter, {});
    }
    if (waiter) {
      if (state->resume_inline) {
        waiter.resume();  // asked for explicitly by the awaiter
      } else {
        state->exec->post(waiter);
      }
    }
    return true;
  }

  void abandon() noexcept {
    if (state_) {
      try {
        set_exception(std::make_exception_ptr(broken_oneshot{}));
      } catch (...) {  // posting may fail to allocate; nothing better can be done here
      }
    }
  }

  std::shared_ptr<detail::oneshot_state<T>> state_;
};

/// The consuming side: await it once. Move-only.
template <class T>
class oneshot_receiver {
public:
  oneshot_receiver(oneshot_receiver&&) noexcept = default;
  oneshot_receiver& operator=(oneshot_receiver&&) = delete;
  oneshot_receiver(const oneshot_receiver&) = delete;
  oneshot_receiver& operator=(const oneshot_receiver&) = delete;
  /// A later result is discarded.
  ~oneshot_receiver() {
    if (state_) {
      std::lock_guard lock{state_->mutex};
      state_->abandoned = true;
    }
  }

  class awaiter {
  public:
    awaiter(detail::oneshot_state<T>& state, bool resume_inline) noexcept
        : state_(&state), resume_inline_(resume_inline) {}
    awaiter(const awaiter&) = delete;
    awaiter& operator=(const awaiter&) = delete;
    awaiter(awaiter&&) = delete;
    awaiter& operator=(awaiter&&) = delete;
    ~awaiter() = default;

    bool await_ready() const {
      std::lock_guard lock{state_->mutex};
      return state_->delivered;
    }

    // The stop callback is registered before the waiter is published, and await_suspend
    // touches nothing after publishing it: from then on the sender or the stop may resume
    // the coroutine (and destroy this awaiter) on another thread.
    template <class P>
    bool await_suspend(std::coroutine_handle<P> h) {
      const detail::coroutine_context& ctx = detail::context_of(h);
      if (ctx.exec == nullptr && !resume_inline_) {
        throw std::logic_error("scopekit::oneshot: the coroutine has no executor");
      }
      stop_callback_.emplace(ctx.stop, on_stop{state_});
      std::lock_guard lock{state_->mutex};
      if (state_->delivered) {
        return false;
      }
      if (state_->stop_requested) {
        state_->abandoned = true;
        stopped_ = true;
        return false;
      }
      state_->exec = ctx.exec;
      state_->resume_inline = resume_inline_;
      state_->waiter_stopped = &stopped_;
      state_->waiter = h;
      return true;
    }

    /// The value, or the delivered error rethrown; stopped_error if a stop woke it.
    T await_resume() {
      stop_callback_.reset();  // waits for an on_stop running on another thread
      if (stopped_) {
        throw stopped_error{};
      }
      std::lock_guard lock{state_->mutex};
      if (state_->error) {
        std::rethrow_exception(state_->error);
      }
      return std::move(*state_->value);
    }

  private:
    struct on_stop {
      detail::oneshot_state<T>* state;
      void operator()() const noexcept {
        std::coroutine_handle<> waiter;
        executor* exec = nullptr;
        {
          std::lock_guard lock{state->mutex};
          if (state->delivered) {
            return;  // the result won: it is being (or was) resumed with it
          }
          state->stop_requested = true;
          waiter = std::exchange(state->waiter, {});
          if (waiter) {
            state->abandoned = true;
            *state->waiter_stopped = true;
            exec = state->exec;
          }
        }
        if (waiter) {
          if (exec != nullptr) {
            exec->post(waiter);
          } else {
            waiter.resume();  // resume_inline without an executor
          }
        }
      }
    };

    detail::oneshot_state<T>* state_;
    bool resume_inline_;
    bool stopped_ = false;
    std::optional<std::stop_callback<on_stop>> stop_callback_;
  };

  /// Awaiting yields the result, resumed on the awaiting coroutine's executor.
  awaiter operator co_await() & noexcept { return awaiter{*state_, false}; }
  awaiter operator co_await() && noexcept { return awaiter{*state_, false}; }

  /// Awaiting this resumes on the sender's thread, inside set_value: only for code that is
  /// known to be safe to run there (the explicit opt-out of the executor rule).
  [[nodiscard]] awaiter resume_inline() noexcept { return awaiter{*state_, true}; }

private:
  template <class U>
  friend std::pair<oneshot_sender<U>, oneshot_receiver<U>> make_oneshot();
  explicit oneshot_receiver(std::shared_ptr<detail::oneshot_state<T>> state) noexcept
      : state_(std::move(state)) {}

  std::shared_ptr<detail::oneshot_state<T>> state_;
};

/// A connected sender and receiver for one T (an object type).
template <class T>
std::pair<oneshot_sender<T>, oneshot_receiver<T>> make_oneshot() {
  static_assert(std::is_object_v<T> && !std::is_array_v<T>,
                "scopekit::make_oneshot: T must be an object type");
  auto state = std::make_shared<detail::oneshot_state<T>>();
  return {oneshot_sender<T>{state}, oneshot_receiver<T>{std::move(state)}};
}

}  // namespace scopekit
