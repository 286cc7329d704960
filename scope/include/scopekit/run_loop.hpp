// scopekit/run_loop.hpp - a single-threaded executor driven by the thread that calls run().
//
// Continuations posted from any thread are resumed in FIFO order by run(), on the calling
// thread; timers fire in deadline order. run() returns once finish() has been called and no
// posted work is left. sync_wait() owns one of these per call. A due timer stays in the queue
// until the moment it fires, so cancel() succeeds for every timer that has not begun firing,
// even one already due while other work runs first.
//
// Allocation: post() appends to a vector that keeps its capacity (no allocation in the steady
// state); schedule() allocates one map node per timer.
//
//   scopekit::run_loop loop;
//   std::thread io{[&] { loop.post(handle); }};   // resumed on the loop's thread, not io's
//   loop.run();
#pragma once

#include "scopekit/detail/timer_queue.hpp"
#include "scopekit/executor.hpp"

#include <condition_variable>
#include <coroutine>
#include <cstddef>
#include <mutex>
#include <utility>
#include <vector>

namespace scopekit {

/// A FIFO of continuations plus a timer queue, run by whichever thread calls run().
class run_loop final : public executor {
public:
  run_loop() = default;
  run_loop(const run_loop&) = delete;
  run_loop& operator=(const run_loop&) = delete;
  run_loop(run_loop&&) = delete;
  run_loop& operator=(run_loop&&) = delete;
  ~run_loop() override = default;

  // Notifying while holding the lock matters: once the run thread can see the new work it
  // may finish and destroy the loop, so the poster must not touch wake_ after unlocking.
  // A queue that cannot grow terminates (post is noexcept): the work is never dropped.
  void post(std::coroutine_handle<> continuation) noexcept override {
    std::lock_guard lock{mutex_};
    ready_.push_back(work{&resume_handle, continuation.address()});
    wake_.notify_one();
  }

  void schedule(timer_node& timer) override {
    std::lock_guard lock{mutex_};
    timers_.emplace(timer.deadline, &timer);
    wake_.notify_one();
  }

  [[nodiscard]] bool cancel(timer_node& timer) noexcept override {
    std::lock_guard lock{mutex_};
    return detail::erase_timer(timers_, timer);
  }

  /// Resumes posted continuations and due timers on the calling thread until finish() has been
  /// called and nothing posted is left. Pending timers do not keep it running after finish().
  /// An exception from a continuation propagates (tasks never let one out); the work after it
  /// stays queued, and run() can be called again. Destroying a loop that still holds work
  /// destroys none of it: those coroutines are never resumed (their frames leak).
  void run() {
    std::vector<work> batch;
    while (true) {
      {
        std::unique_lock lock{mutex_};
        while (ready_.empty() && !finishing_) {
          if (timers_.empty()) {
            wake_.wait(lock);
          } else if (const auto next = timers_.begin()->first; next > clock::now()) {
            wake_.wait_until(lock, next);  // a copy: the node may be erased while we wait
          } else {
            break;
          }
        }
        move_due_timers(lock);
        if (ready_.empty() && finishing_) {
          finishing_ = false;  // the loop can be run again
          return;
        }
        batch.swap(ready_);
      }
      run_batch(batch);
    }
  }

  /// Runs what is ready now (posted work and due timers), including work that it posts in
  /// turn, then returns without waiting. Returns the number of items run (continuations
  /// resumed and timers fired). For tests and for embedding in another event loop.
  std::size_t poll() {
    std::size_t count = 0;
    std::vector<work> batch;
    while (true) {
      bool has_timer_pass = false;
      {
        std::unique_lock lock{mutex_};
        move_due_timers(lock);
        if (ready_.empty()) {
          return count;
        }
        has_timer_pass = timer_pass_queued_;
        batch.swap(ready_);
      }
      const std::size_t fired_before = timers_fired_;
      count += batch.size() - (has_timer_pass ? 1 : 0);
      run_batch(batch);
      count += timers_fired_ - fired_before;
    }
  }

  /// Makes run() return once the work already posted is done. Thread-safe.
  void finish() {
    std::lock_guard lock{mutex_};
    finishing_ = true;
    wake_.notify_one();
  }

private:
  // One unit of ready work: resume a coroutine, or fire a due timer.
  struct work {
    void (*run)(void* arg);
    void* arg;
  };

  // Runs a batch in order. If an item throws (tasks never let one out; a raw coroutine may),
  // the items after it go back to the front of the queue before the exception propagates:
  // nothing posted is ever dropped.
  void run_batch(std::vector<work>& batch) {
    std::size_t next = 0;
    try {
      while (next < batch.size()) {
        const work item = batch[next++];
        item.run(item.arg);
      }
    } catch (...) {
      std::lock_guard lock{mutex_};
      ready_.insert(ready_.begin(), batch.begin() + static_cast<std::ptrdiff_t>(next),
                    batch.end());
      batch.clear();
      throw;
    }
    batch.clear();
  }

  static void resume_handle(void* address) {
    std::coroutine_handle<>::from_address(address).resume();
  }
  static void run_timer_pass(void* self) { static_cast<run_loop*>(self)->fire_due_timers(); }

  // Queues one pass over the due timers behind the work already posted. The timers themselves
  // stay in timers_, where cancel() can still remove them, until the pass takes each one out
  // just before firing it: a timer that is due but not fired yet is never reported as fired.
  void move_due_timers(std::unique_lock<std::mutex>& /*held*/) {
    if (!timer_pass_queued_ && !timers_.empty() && timers_.begin()->first <= clock::now()) {
      ready_.push_back(work{&run_timer_pass, this});
      timer_pass_queued_ = true;
    }
  }

  // Fires, in deadline order, as many timers as were due when the pass began (a timer that a
  // fire schedules in the past waits for the next pass, so a pass always ends).
  void fire_due_timers() noexcept {
    std::unique_lock lock{mutex_};
    timer_pass_queued_ = false;
    const auto now = clock::now();
    std::size_t due = 0;
    for (auto it = timers_.begin(); it != timers_.end() && it->first <= now; ++it) {
      ++due;
    }
    for (; due != 0 && !timers_.empty() && timers_.begin()->first <= now; --due) {
      timer_node& timer = *timers_.begin()->second;
      timers_.erase(timers_.begin());
      ++timers_fired_;
      lock.unlock();
      timer.fire(timer);  // noexcept; may schedule or cancel timers
      lock.lock();
    }
  }

  std::mutex mutex_;
  std::condition_variable wake_;
  std::vector<work> ready_;
  detail::timer_queue timers_;
  bool timer_pass_queued_ = false;  // a run_timer_pass item is in ready_ or in the running batch
  std::size_t timers_fired_ = 0;    // touched by the running thread only
  bool finishing_ = false;
};

}  // namespace scopekit
