// scopekit/asio.hpp - scopekit and standalone Asio (1.22 or later) in one program.
//
// Optional: include it only if your program already uses Asio (`#include <asio.hpp>`); the rest
// of scopekit never needs Asio. It gives three bridges, each usable alone:
// - asio_executor<E>: a scopekit::executor over any Asio executor E (an io_context's, an
//   asio::thread_pool's, a strand): scopekit tasks resume there and scopekit timers (sleep_for,
//   deadlines) are Asio steady_timers on it.
// - asio_run(ex, work, token): runs a scopekit task<T> as an Asio asynchronous operation with
//   signature void(std::exception_ptr, T) (void(std::exception_ptr) for task<void>), like
//   asio::co_spawn. Any completion token: asio::use_awaitable, asio::use_future,
//   asio::detached, a callback. A terminal or partial cancellation emitted on the handler's
//   cancellation slot requests stop on the task's token.
// - use_task: a completion token that makes any Asio asynchronous operation an awaitable in a
//   scopekit coroutine. A stop requested on the coroutine's token emits terminal cancellation
//   on the operation's slot (the operation then ends with operation_aborted and co_await throws
//   stopped_error); other errors throw std::system_error.
//
// Threads: the task runs on `ex`'s threads; an Asio operation awaited with use_task completes
// on its I/O executor, and the coroutine then resumes on its own scopekit executor. A stop is
// forwarded to the operation on the thread that requests it, under a lock that orders it with
// the operation's completion, so it never reaches an operation that has completed.
// Allocation: asio_run allocates one block (the task, the handler, the executor adapter);
// use_task one shared block per co_await (the cancellation signal); asio_executor one Asio
// timer per scheduled scopekit timer. The io_context must run until the task has completed:
// destroying it first destroys the task's pending resumptions, not the task.
//
//   asio::awaitable<void> session(asio::ip::tcp::socket s) {       // an Asio coroutine ...
//     std::size_t n = co_await scopekit::asio_run(s.get_executor(), copy(s), asio::use_awaitable);
//   }
//   scopekit::task<std::size_t> copy(asio::ip::tcp::socket& s) {  // ... awaits scopekit work
//     co_return co_await s.async_read_some(asio::buffer(buf), scopekit::use_task);
//   }
#pragma once

#include "scopekit/detail/asio_operation.hpp"
#include "scopekit/detail/start_on.hpp"
#include "scopekit/executor.hpp"
#include "scopekit/task.hpp"

#include <asio.hpp>

#include <coroutine>
#include <cstdint>
#include <exception>
#include <map>
#include <memory>
#include <mutex>
#include <optional>
#include <stop_token>
#include <tuple>
#include <type_traits>
#include <utility>

namespace scopekit {

/// An Asio executor: one of the standard executor model (io_context::executor_type,
/// asio::any_io_executor, thread_pool::executor_type, strand<...>) or of the older one.
template <class E>
concept asio_executor_type = asio::execution::is_executor<E>::value || asio::is_executor<E>::value;

/// A scopekit::executor over the Asio executor E. post() is asio::post; timers are
/// basic_waitable_timer<steady_clock, ..., E>. Thread-safe. Not copyable: timers refer to it.
template <asio_executor_type E>
class asio_executor final : public executor {
public:
  explicit asio_executor(E ex) : state_(std::make_shared<timers>(std::move(ex))) {}
  asio_executor(const asio_executor&) = delete;
  asio_executor& operator=(const asio_executor&) = delete;
  asio_executor(asio_executor&&) = delete;
  asio_executor& operator=(asio_executor&&) = delete;
  ~asio_executor() override = default;

  /// asio::post of a resumption. Terminates if Asio cannot allocate the handler.
  void post(std::coroutine_handle<> continuation) noexcept override {
    asio::post(state_->ex, [continuation] { continuation.resume(); });
  }

  /// Starts an Asio timer that fires `timer` on E. Throws std::bad_alloc (nothing scheduled).
  void schedule(timer_node& timer) override {
    auto clock_timer = std::make_shared<steady_timer>(state_->ex, timer.deadline);
    std::uint64_t id = 0;
    {
      std::lock_guard lock{state_->mutex};
      id = ++state_->next_id;
      state_->pending.insert_or_assign(&timer, entry{id, clock_timer});
    }
    try {
      clock_timer->async_wait([state = state_, node = &timer, id](const asio::error_code&) {
        if (state->take(node, id)) {
          node->fire(*node);
        }
      });
    } catch (...) {
      (void)cancel(timer);
      throw;
    }
  }

  /// Removes `timer` unless its handler has taken it to fire it.
  [[nodiscard]] bool cancel(timer_node& timer) noexcept override {
    std::shared_ptr<steady_timer> removed;  // destroyed (and its wait cancelled) unlocked
    std::lock_guard lock{state_->mutex};
    const auto found = state_->pending.find(&timer);
    if (found == state_->pending.end()) {
      return false;
    }
    removed = std::move(found->second.clock_timer);
    state_->pending.erase(found);
    return true;
  }

  /// The Asio executor.
  [[nodiscard]] const E& get_executor() const noexcept { return state_->ex; }

private:
  using steady_timer = asio::basic_waitable_timer<executor::clock,
                                                  asio::wait_traits<executor::clock>, E>;
  struct entry {
    std::uint64_t id;  // tells a cancelled and rescheduled node from the one a handler waits on
    std::shared_ptr<steady_timer> clock_timer;
  };
  // Shared with the timers' handlers, which may run after the adapter is gone.
  struct timers {
    explicit timers(E e) : ex(std::move(e)) {}
    bool take(timer_node* node, std::uint64_t id) noexcept {
      std::lock_guard lock{mutex};
      const auto found = pending.find(node);
      if (found == pending.end() || found->second.id != id) {
        return false;  // cancelled (and maybe scheduled again)
      }
      pending.erase(found);  // from here cancel() returns false
      return true;
    }
    E ex;
    std::mutex mutex;
    std::uint64_t next_id = 0;
    std::map<timer_node*, entry> pending;
  };
  std::shared_ptr<timers> state_;
};

template <class E>
asio_executor(E) -> asio_executor<E>;

namespace detail {

/// The completion signature of asio_run for a task<T>.
template <class T>
struct asio_run_signature {
  using type = void(std::exception_ptr, T);
};
template <>
struct asio_run_signature<void> {
  using type = void(std::exception_ptr);
};

/// The property that makes an executor count outstanding work (keeps io_context::run going).
inline constexpr asio::execution::outstanding_work_t::tracked_t tracked_work{};

/// One asio_run in flight: owns the task, the handler and the executor the task runs on.
template <class Handler, class E, class T>
class asio_run_state {
public:
  asio_run_state(Handler handler, const E& ex, task<T> work)
      : handler_(std::move(handler)), exec_(ex), work_(std::move(work)),
        handler_work_(asio::prefer(asio::get_associated_executor(handler_, ex),
                                   tracked_work)),
        task_work_(asio::prefer(ex, tracked_work)) {}

  static void start(std::unique_ptr<asio_run_state> self) {
    auto slot = asio::get_associated_cancellation_slot(self->handler_);
    if (slot.is_connected()) {
      slot.template emplace<canceller>(self->stop_);
    }
    asio_run_state* raw = self.release();  // complete() owns it now
    start_on(raw->work_, coroutine_context{&raw->exec_, raw->stop_.get_token()}, &complete, raw);
  }

private:
  // Forwards an Asio cancellation to the task's stop source (a copy: it may outlive the state).
  struct canceller {
    explicit canceller(std::stop_source source) noexcept : stop(std::move(source)) {}
    std::stop_source stop;
    void operator()(asio::cancellation_type type) const noexcept {
      if ((type & (asio::cancellation_type::terminal | asio::cancellation_type::partial)) !=
          asio::cancellation_type::none) {
        stop.request_stop();
      }
    }
  };

  // On the thread that completed the task: free everything, then hand the result to the
  // handler through its associated executor.
  static void complete(void* raw, std::coroutine_handle<> /*done*/) noexcept {
    // The canceller stays in the slot (it holds a copy of the stop source, so a late emit is
    // harmless): clearing it here could race with an emit on another thread.
    std::unique_ptr<asio_run_state> self{static_cast<asio_run_state*>(raw)};
    auto target = asio::get_associated_executor(self->handler_, self->exec_.get_executor());
    Handler handler = std::move(self->handler_);
    auto handler_work = std::move(self->handler_work_);
    auto outcome = take_outcome(self->work_);
    self.reset();
    if constexpr (std::is_void_v<T>) {
      asio::dispatch(target, [h = std::move(handler), e = outcome.error]() mutable { std::move(h)(e); });
    } else {
      if (!outcome.value) {
        outcome.value.emplace();  // Asio's convention (co_spawn): a default value with the error
      }
      asio::dispatch(target, [h = std::move(handler), e = outcome.error,
                              v = std::move(*outcome.value)]() mutable { std::move(h)(e, std::move(v)); });
    }
  }

  Handler handler_;
  asio_executor<E> exec_;
  task<T> work_;
  std::stop_source stop_;
  std::decay_t<decltype(asio::prefer(std::declval<asio::associated_executor_t<Handler, E>>(),
                                     tracked_work))>
      handler_work_;
  std::decay_t<decltype(asio::prefer(std::declval<E>(), tracked_work))>
      task_work_;
};

struct asio_run_initiation {
  template <class Handler, class E, class T>
  void operator()(Handler&& handler, const E& ex, task<T> work) const {
    using state = asio_run_state<std::decay_t<Handler>, E, T>;
    state::start(std::make_unique<state>(std::forward<Handler>(handler), ex, std::move(work)));
  }
};

}  // namespace detail

/// Runs `work` on `ex` as an Asio asynchronous operation completing with
/// (std::exception_ptr, T) (only the exception_ptr for task<void>; a default-constructed T if
/// the task threw). The task starts on `ex` (never inside this call) with a stop token of its
/// own, requested by a terminal or partial cancellation on the handler's cancellation slot.
/// The handler runs on its associated executor (default: `ex`). Work is counted on both
/// executors until then. Throws std::invalid_argument for an empty task.
template <asio_executor_type E, class T, class CompletionToken>
  requires(std::is_void_v<T> || std::is_default_constructible_v<T>)
auto asio_run(const E& ex, task<T> work, CompletionToken&& token) {
  detail::require_valid(work, "scopekit::asio_run");
  return asio::async_initiate<CompletionToken, typename detail::asio_run_signature<T>::type>(
      detail::asio_run_initiation{}, token, ex, std::move(work));
}

/// asio_run on the executor of `context` (an io_context, an asio::thread_pool).
template <class Context, class T, class CompletionToken>
  requires std::is_convertible_v<Context&, asio::execution_context&> &&
           requires(Context& c) { c.get_executor(); }
auto asio_run(Context& context, task<T> work, CompletionToken&& token) {
  return asio_run(context.get_executor(), std::move(work), std::forward<CompletionToken>(token));
}

/// The completion token that makes an Asio asynchronous operation awaitable in a scopekit
/// coroutine: `co_await sock.async_read_some(buf, scopekit::use_task)`. The operation starts
/// at the co_await (not if stop was already requested: that throws stopped_error).
struct use_task_t {};
inline constexpr use_task_t use_task{};

}  // namespace scopekit

/// Asio's customisation point for use_task: initiate() returns the awaitable.
template <class... Args>
class asio::async_result<scopekit::use_task_t, void(Args...)> {
public:
  template <class Initiation, class... InitArgs>
  static auto initiate(Initiation&& init, scopekit::use_task_t /*token*/, InitArgs&&... args) {
    using operation = scopekit::detail::asio_operation<std::decay_t<Initiation>,
                                                       std::tuple<std::decay_t<InitArgs>...>, Args...>;
    return operation{std::forward<Initiation>(init),
                     std::tuple<std::decay_t<InitArgs>...>(std::forward<InitArgs>(args)...)};
  }
};
