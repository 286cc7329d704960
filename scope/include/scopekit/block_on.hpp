// scopekit/block_on.hpp - run a task on a given executor from plain code, and wait for it.
//
// block_on(exec, work, stop) starts `work` on `exec` (a thread_pool, an executor of your own)
// with `stop` as its stop token, blocks the calling thread until it completes, and returns its
// value or rethrows its exception. Unlike sync_wait, which runs the task on the calling thread,
// the task runs on the executor's threads; the calling thread only waits.
//
// Allocation: none besides the task's own frame. Never call it from a thread the executor
// needs to run the task (a worker of a one-thread pool would wait for itself for ever).
//
//   scopekit::thread_pool pool{4};
//   const int rows = scopekit::block_on(pool, count_rows());
#pragma once

#include "scopekit/context.hpp"
#include "scopekit/detail/start_on.hpp"
#include "scopekit/executor.hpp"
#include "scopekit/task.hpp"

#include <condition_variable>
#include <coroutine>
#include <mutex>
#include <stop_token>
#include <utility>

namespace scopekit {

/// Runs `work` on `exec`, observing `stop`, and blocks until it completes. Returns its value or
/// rethrows its exception. Throws std::invalid_argument for an empty task.
template <class T>
T block_on(executor& exec, task<T> work, std::stop_token stop = {}) {
  detail::require_valid(work, "scopekit::block_on");
  struct waiter {
    std::mutex mutex;
    std::condition_variable done_cv;
    bool done = false;
    // Notifies under the lock: the waiting thread may destroy everything once it sees `done`.
    static void on_done(void* self, std::coroutine_handle<> /*done*/) noexcept {
      auto* w = static_cast<waiter*>(self);
      std::lock_guard lock{w->mutex};
      w->done = true;
      w->done_cv.notify_one();
    }
  } wait;
  detail::start_on(work, coroutine_context{&exec, std::move(stop)}, &waiter::on_done, &wait);
  {
    std::unique_lock lock{wait.mutex};
    wait.done_cv.wait(lock, [&wait] { return wait.done; });
  }
  return work.handle().promise().take();
}

}  // namespace scopekit
