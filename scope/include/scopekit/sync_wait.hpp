// scopekit/sync_wait.hpp - run an awaitable to completion from ordinary (non-coroutine) code.
//
// sync_wait drives a run_loop on the calling thread until the awaitable finishes, then returns
// its value or rethrows its exception. The awaitable runs with that loop as its executor and
// with the given stop token (none by default), so everything it awaits resumes on the calling
// thread unless it explicitly moves elsewhere.
//
// Allocation: one coroutine frame for the driver, plus what the run_loop needs.
// Never call it from a coroutine running on a single-threaded executor: it would block that
// executor's only thread.
//
//   scopekit::task<int> compute();
//   int main() { return scopekit::sync_wait(compute()); }
#pragma once

#include "scopekit/detail/coroutine_context.hpp"
#include "scopekit/run_loop.hpp"
#include "scopekit/task.hpp"

#include <coroutine>
#include <stop_token>
#include <type_traits>
#include <utility>

namespace scopekit {

namespace detail {

/// The root coroutine of a sync_wait: awaits the user's awaitable, then stops the loop.
template <class T>
class sync_wait_driver {
public:
  class promise_type final : public task_promise_base, public result_slot<T> {
  public:
    sync_wait_driver get_return_object() noexcept {
      return sync_wait_driver{std::coroutine_handle<promise_type>::from_promise(*this)};
    }
    struct finish_loop {
      bool await_ready() noexcept { return false; }
      void await_suspend(std::coroutine_handle<promise_type> h) noexcept {
        h.promise().loop_->finish();
      }
      void await_resume() noexcept {}
    };
    finish_loop final_suspend() noexcept { return {}; }

    run_loop* loop_ = nullptr;
  };

  sync_wait_driver(sync_wait_driver&& other) noexcept : handle_(std::exchange(other.handle_, {})) {}
  sync_wait_driver(const sync_wait_driver&) = delete;
  sync_wait_driver& operator=(const sync_wait_driver&) = delete;
  sync_wait_driver& operator=(sync_wait_driver&&) = delete;
  ~sync_wait_driver() {
    if (handle_) {
      handle_.destroy();
    }
  }

  T run(run_loop& loop, std::stop_token stop) {
    handle_.promise().loop_ = &loop;
    handle_.promise().set_own_context(coroutine_context{&loop, std::move(stop)});
    loop.post(handle_);
    loop.run();
    return handle_.promise().take();
  }

private:
  explicit sync_wait_driver(std::coroutine_handle<promise_type> h) noexcept : handle_(h) {}
  std::coroutine_handle<promise_type> handle_;
};

/// What sync_wait returns for an awaitable A: its await result, with T&& taken by value.
template <class A>
using sync_wait_result_t =
    std::conditional_t<std::is_rvalue_reference_v<await_result_t<A>>,
                       std::remove_cvref_t<await_result_t<A>>, await_result_t<A>>;

template <class T, class A>
sync_wait_driver<T> make_sync_wait_driver(A awaitable) {
  if constexpr (std::is_void_v<T>) {
    co_await std::move(awaitable);
  } else {
    co_return co_await std::move(awaitable);
  }
}

}  // namespace detail

/// Runs `awaitable` on a run_loop driven by this thread; returns its result or rethrows.
/// `stop` is the stop token the awaitable observes.
template <class A>
detail::sync_wait_result_t<A> sync_wait(A&& awaitable, std::stop_token stop = {}) {
  using result = detail::sync_wait_result_t<A>;
  run_loop loop;
  auto driver = detail::make_sync_wait_driver<result, std::remove_cvref_t<A>>(
      std::forward<A>(awaitable));
  return driver.run(loop, std::move(stop));
}

}  // namespace scopekit
