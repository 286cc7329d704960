// scopekit/on.hpp - from any coroutine, run a task on a given executor with a given stop token.
//
// `co_await scopekit::on(exec, work)` starts `work` on `exec` and suspends the awaiting
// coroutine until it completes; then the awaiting coroutine continues on its own executor (if
// it is a scopekit coroutine or a context_provider with one), else inline on the thread that
// completed `work`. `work` observes the awaiting coroutine's stop token, or the one given.
// This is how a coroutine of another library (cppcoro-style, an Asio awaitable's handler, a
// stdexec sender's receiver) runs scopekit work on a scopekit executor.
//
// Allocation: none besides the task's frame.
//
//   scopekit::thread_pool pool{4};
//   const int n = co_await scopekit::on(pool, count_rows());  // back on our executor after
#pragma once

#include "scopekit/context.hpp"
#include "scopekit/detail/start_on.hpp"
#include "scopekit/executor.hpp"
#include "scopekit/task.hpp"

#include <coroutine>
#include <stop_token>
#include <utility>

namespace scopekit {

/// What on() returns: await it once, then it may be destroyed.
template <class T>
class [[nodiscard]] on_awaiter {
public:
  on_awaiter(executor& exec, task<T> work, std::stop_token stop, bool own_stop)
      : exec_(&exec), work_(std::move(work)), stop_(std::move(stop)), own_stop_(own_stop) {
    detail::require_valid(work_, "scopekit::on");
  }
  on_awaiter(on_awaiter&&) noexcept = default;
  on_awaiter& operator=(on_awaiter&&) = delete;
  on_awaiter(const on_awaiter&) = delete;
  on_awaiter& operator=(const on_awaiter&) = delete;
  ~on_awaiter() = default;

  bool await_ready() const noexcept { return false; }

  template <class P>
  void await_suspend(std::coroutine_handle<P> awaiting) noexcept {
    const coroutine_context& caller = context_of(awaiting);
    home_ = caller.exec;
    awaiting_ = awaiting;
    detail::start_on(work_, coroutine_context{exec_, own_stop_ ? stop_ : caller.stop}, &on_done,
                     this);
  }

  /// The task's value, or its exception rethrown.
  T await_resume() { return work_.handle().promise().take(); }

private:
  // After posting, nothing of this awaiter is touched: the awaiting coroutine may already be
  // running again, on another thread, and destroy it.
  static void on_done(void* self, std::coroutine_handle<> /*done*/) noexcept {
    auto* a = static_cast<on_awaiter*>(self);
    executor* home = a->home_;
    const std::coroutine_handle<> awaiting = a->awaiting_;
    if (home != nullptr) {
      home->post(awaiting);
    } else {
      awaiting.resume();  // a coroutine without an executor continues where the work ended
    }
  }

  executor* exec_;
  task<T> work_;
  std::stop_token stop_;
  bool own_stop_;  // false: the awaiting coroutine's token
  executor* home_ = nullptr;
  std::coroutine_handle<> awaiting_;
};

/// Awaiting it runs `work` on `exec` with the awaiting coroutine's stop token. Throws
/// std::invalid_argument for an empty task.
template <class T>
on_awaiter<T> on(executor& exec, task<T> work) {
  return on_awaiter<T>{exec, std::move(work), {}, false};
}

/// Awaiting it runs `work` on `exec` with `stop` as its stop token.
template <class T>
on_awaiter<T> on(executor& exec, task<T> work, std::stop_token stop) {
  return on_awaiter<T>{exec, std::move(work), std::move(stop), true};
}

}  // namespace scopekit
