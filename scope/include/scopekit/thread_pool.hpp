// scopekit/thread_pool.hpp - a multi-threaded executor: N worker threads, one queue, timers.
//
// thread_pool runs posted continuations and fires timers on any of its N workers, so the
// coroutines it runs do run concurrently: everything of scopekit's core is correct on it
// (deadlines, sleeps, oneshots, scopes whose children push cleanups). post() never fails
// (noexcept; see executor.hpp), schedule() and cancel() follow the executor's timer contract:
// a cancel() that returns false means fire has begun on some worker, and may still be running.
// The destructor is a clean shutdown: it lets the workers run everything already posted (and
// what that posts in turn), then joins them. Timers not yet due when the queue runs dry never
// fire. Run work on it with block_on, on or start_detached (scopekit/block_on.hpp, on.hpp,
// start_detached.hpp).
//
// Allocation: the ready queue (a std::deque, blocks reused in the steady state), one map node
// per scheduled timer, and the N threads. Thread safety: every member may be called from any
// thread, the destructor from none of the pool's own.
//
//   scopekit::thread_pool pool{4};
//   int rows = scopekit::block_on(pool, count_rows());  // runs on the workers, waits here
#pragma once

#include "scopekit/detail/timer_queue.hpp"
#include "scopekit/executor.hpp"

#include <condition_variable>
#include <coroutine>
#include <cstddef>
#include <deque>
#include <mutex>
#include <stdexcept>
#include <thread>
#include <utility>
#include <vector>

namespace scopekit {

/// An executor with `workers` threads that share one FIFO ready queue and one timer queue.
class thread_pool final : public executor {
public:
  /// Starts `workers` threads. Throws std::invalid_argument for 0, std::system_error if a
  /// thread cannot start (those already started are joined first).
  explicit thread_pool(std::size_t workers) {
    if (workers == 0) {
      throw std::invalid_argument("scopekit::thread_pool: at least one worker");
    }
    threads_.reserve(workers);
    try {
      for (std::size_t i = 0; i < workers; ++i) {
        threads_.emplace_back([this] { work(); });
      }
    } catch (...) {
      shut_down();
      throw;
    }
  }
  thread_pool(const thread_pool&) = delete;
  thread_pool& operator=(const thread_pool&) = delete;
  thread_pool(thread_pool&&) = delete;
  thread_pool& operator=(thread_pool&&) = delete;

  /// Runs what was posted (and what that posts), then joins the workers. Must not be called
  /// from a worker.
  ~thread_pool() override { shut_down(); }

  /// Queues `continuation`; one idle worker resumes it. A queue that cannot grow terminates.
  void post(std::coroutine_handle<> continuation) noexcept override {
    std::lock_guard lock{mutex_};
    ready_.push_back(continuation);
    wake_.notify_one();  // under the lock: the pool may be destroyed once a worker sees it
  }

  /// Registers `timer`; a worker fires it once its deadline has passed.
  void schedule(timer_node& timer) override {
    std::lock_guard lock{mutex_};
    const bool earliest = timers_.empty() || timer.deadline < timers_.begin()->first;
    timers_.emplace(timer.deadline, &timer);
    if (earliest) {
      wake_.notify_all();  // the worker waiting for the old earliest must wait less
    }
  }

  /// Removes `timer` unless a worker has taken it to fire it. False does not wait for that
  /// fire to return.
  [[nodiscard]] bool cancel(timer_node& timer) noexcept override {
    std::lock_guard lock{mutex_};
    return detail::erase_timer(timers_, timer);
  }

  /// The number of worker threads.
  [[nodiscard]] std::size_t size() const noexcept { return threads_.size(); }

private:
  void shut_down() noexcept {
    {
      std::lock_guard lock{mutex_};
      stopping_ = true;
      wake_.notify_all();
    }
    for (std::thread& t : threads_) {
      if (t.joinable()) {
        t.join();
      }
    }
  }

  // Due timers first, then posted work; a worker leaves once shutdown has begun and the ready
  // queue is empty (whoever is still running work drains what it posts).
  void work() noexcept {
    std::unique_lock lock{mutex_};
    while (true) {
      if (!timers_.empty()) {
        const auto next = timers_.begin();
        if (next->first <= clock::now()) {
          timer_node& timer = *next->second;
          timers_.erase(next);  // from here cancel() returns false
          lock.unlock();
          timer.fire(timer);
          lock.lock();
          continue;
        }
      }
      if (!ready_.empty()) {
        const std::coroutine_handle<> continuation = ready_.front();
        ready_.pop_front();
        lock.unlock();
        continuation.resume();  // scopekit's coroutines never let an exception out
        lock.lock();
        continue;
      }
      if (stopping_) {
        return;
      }
      if (timers_.empty()) {
        wake_.wait(lock);
      } else {
        const auto next = timers_.begin()->first;  // a copy: the node may go while we wait
        wake_.wait_until(lock, next);
      }
    }
  }

  std::mutex mutex_;
  std::condition_variable wake_;
  std::deque<std::coroutine_handle<>> ready_;
  detail::timer_queue timers_;
  bool stopping_ = false;
  std::vector<std::thread> threads_;  // last: the workers start once the rest is built
};

}  // namespace scopekit
