// scopekit/detail/asio_operation.hpp - the awaitable behind scopekit::use_task (asio.hpp).
// Internal: no promises beyond what scopekit/asio.hpp documents.
#pragma once

#include "scopekit/context.hpp"
#include "scopekit/executor.hpp"
#include "scopekit/stopped_error.hpp"

#include <asio.hpp>

#include <atomic>
#include <coroutine>
#include <exception>
#include <memory>
#include <mutex>
#include <optional>
#include <stop_token>
#include <system_error>
#include <tuple>
#include <type_traits>
#include <utility>

namespace scopekit::detail {

/// The co_await result of an operation completing with Args: without a leading error_code or
/// exception_ptr, void for none, the value for one, a tuple for more.
template <class... Rest>
struct asio_values {
  using type = std::tuple<Rest...>;
};
template <class V>
struct asio_values<V> {
  using type = V;
};
template <>
struct asio_values<> {
  using type = void;
};
/// True if an operation's first completion argument reports an error.
template <class... Args>
inline constexpr bool asio_reports_error = false;
template <class First, class... Rest>
inline constexpr bool asio_reports_error<First, Rest...> =
    std::is_same_v<std::decay_t<First>, std::error_code> ||
    std::is_same_v<std::decay_t<First>, std::exception_ptr>;

/// Awaiting it initiates `Initiation(handler, init_args...)` and resumes with what the handler
/// receives. The state the handler, a stop callback and the awaiter share lives in one block.
template <class Initiation, class InitArgs, class... Args>
class asio_operation {
  struct state;
  // Runs on the thread that requests stop.
  struct stop_forwarder {
    state* s;
    void operator()() const noexcept;
  };

public:
  asio_operation(Initiation init, InitArgs args)
      : init_(std::move(init)), args_(std::move(args)), state_(std::make_unique<state>()) {}

  bool await_ready() const noexcept { return false; }

  /// Initiates the operation unless stop was already requested; forwards a later stop request
  /// as terminal cancellation. Returns false if the operation completed meanwhile.
  template <class P>
  bool await_suspend(std::coroutine_handle<P> awaiting) {
    const coroutine_context& context = context_of(awaiting);
    if (context.stop.stop_requested()) {
      state_->stopped_before_start = true;
      return false;
    }
    state& s = *state_;
    s.home = context.exec;
    s.awaiting = awaiting;
    s.on_stop.emplace(context.stop, stop_forwarder{&s});
    try {
      std::apply([this, &s](auto&... a) { std::move(init_)(handler{&s}, std::move(a)...); }, args_);
    } catch (...) {
      s.on_stop.reset();
      throw;
    }
    s.arm();
    if (s.handoff.exchange(true, std::memory_order_acq_rel)) {
      s.on_stop.reset();  // the handler ran first: go on in this frame
      return false;
    }
    return true;
  }

  /// The operation's values; throws stopped_error if a stop request aborted it (or came
  /// before it started), std::system_error for an error_code, or the exception it reported.
  auto await_resume() {
    state& s = *state_;
    if (s.stopped_before_start) {
      throw stopped_error();
    }
    return std::apply([&s](auto&&... v) { return values(s, std::move(v)...); }, std::move(*s.result));
  }

private:
  struct state {
    std::recursive_mutex mutex;  // recursive: an operation may complete inside emit()
    asio::cancellation_signal signal;
    bool armed = false;          // initiated: the operation's handler sits in the slot
    bool done = false;           // completed: emitting must not reach it any more
    bool stop_requested = false;
    bool stopped_before_start = false;
    std::atomic<bool> handoff{false};  // the second of await_suspend and the handler resumes
    executor* home = nullptr;
    std::coroutine_handle<> awaiting;
    std::optional<std::tuple<std::decay_t<Args>...>> result;
    void emit_locked() {
      if (armed && !done && stop_requested) {
        signal.emit(asio::cancellation_type::terminal);
      }
    }
    void arm() {
      std::lock_guard lock{mutex};
      armed = true;
      emit_locked();
    }
    void request_stop() {
      std::lock_guard lock{mutex};
      stop_requested = true;
      emit_locked();
    }
    void finish() {
      std::lock_guard lock{mutex};
      done = true;
    }
    std::optional<std::stop_callback<stop_forwarder>> on_stop;
  };

  // The completion handler Asio invokes (on the operation's I/O executor).
  struct handler {
    state* s;
    using cancellation_slot_type = asio::cancellation_slot;
    [[nodiscard]] cancellation_slot_type get_cancellation_slot() const noexcept {
      return s->signal.slot();
    }
    template <class... Vs>
    void operator()(Vs&&... vs) {
      s->result.emplace(std::forward<Vs>(vs)...);
      s->finish();
      if (!s->handoff.exchange(true, std::memory_order_acq_rel)) {
        return;  // await_suspend is still running; it goes on
      }
      s->on_stop.reset();
      executor* home = s->home;
      const std::coroutine_handle<> awaiting = s->awaiting;
      if (home != nullptr) {
        home->post(awaiting);
      } else {
        awaiting.resume();
      }
    }
  };

  template <class... Vs>
  static auto values(const state& s, Vs&&... v) {
    if constexpr (asio_reports_error<Args...>) {
      return checked(s, std::forward<Vs>(v)...);
    } else {
      return plain(std::forward<Vs>(v)...);
    }
  }
  template <class E, class... Vs>
  static auto checked(const state& s, E&& error, Vs&&... v) {
    if constexpr (std::is_same_v<std::decay_t<E>, std::exception_ptr>) {
      if (error) {
        std::rethrow_exception(error);
      }
    } else if (error) {
      if (error == asio::error::operation_aborted && s.stop_requested) {
        throw stopped_error();
      }
      throw std::system_error(error);
    }
    return plain(std::forward<Vs>(v)...);
  }
  template <class... Vs>
  static auto plain(Vs&&... v) {
    if constexpr (sizeof...(Vs) == 1) {
      return (std::forward<Vs>(v), ...);
    } else if constexpr (sizeof...(Vs) > 1) {
      return std::tuple<std::decay_t<Vs>...>(std::forward<Vs>(v)...);
    }
  }

  Initiation init_;
  InitArgs args_;
  std::unique_ptr<state> state_;
};

template <class Initiation, class InitArgs, class... Args>
void asio_operation<Initiation, InitArgs, Args...>::stop_forwarder::operator()() const noexcept {
  s->request_stop();
}

}  // namespace scopekit::detail
