// Tests for scopekit/deadline.hpp: in time, too late, a stop that is the caller's own, on a
// run_loop and on a thread_pool; and the deadline that fires on another thread as the work ends.
#include "scopekit/deadline.hpp"

#include "scopekit/block_on.hpp"
#include "scopekit/sleep.hpp"
#include "scopekit/sync_wait.hpp"
#include "scopekit/task.hpp"
#include "scopekit/thread_pool.hpp"
#include "support/executors.hpp"

#include <gtest/gtest.h>

#include <atomic>
#include <chrono>
#include <condition_variable>
#include <coroutine>
#include <mutex>
#include <stop_token>
#include <thread>

namespace {

using namespace std::chrono_literals;
using scopekit::sync_wait;
using scopekit::task;

task<int> quick() { co_return 5; }

task<int> slow() {
  co_await scopekit::sleep_for(1h);
  co_return 6;
}

class Deadline : public scopekit::test::on_each_executor {};
SCOPEKIT_EXECUTORS(Deadline);

TEST_P(Deadline, WorkThatFinishesInTimeReturnsItsValue) {
  EXPECT_EQ(run(scopekit::with_timeout(1h, quick())), 5);
}

TEST_P(Deadline, ExpiredDeadlineIsATimeoutError) {
  EXPECT_THROW(run(scopekit::with_timeout(1ms, slow())), scopekit::timeout_error);
}

TEST_P(Deadline, DeadlineInThePastStopsAtOnce) {
  EXPECT_THROW(run(scopekit::with_deadline(scopekit::executor::clock::now() - 1s, slow())),
               scopekit::timeout_error);
}

TEST_P(Deadline, CallersOwnStopStaysAStop) {
  std::stop_source caller;
  caller.request_stop();
  // Not a timeout: the deadline is an hour away; the caller asked to stop.
  EXPECT_THROW(run(scopekit::with_timeout(1h, slow()), caller.get_token()),
               scopekit::stopped_error);
}

// Ends without suspending once `end` has passed; never looks at its stop token.
task<int> busy_until(scopekit::executor::clock::time_point end) {
  while (scopekit::executor::clock::now() < end) {
  }
  co_return 7;
}

TEST_P(Deadline, DeadlineFiringAsTheWorkEndsIsSafe) {
  // On a pool the timer fires on one worker while the work ends on another; with_deadline's
  // frame (holding the timer) must not be freed while fire still uses it (ASan:
  // heap-use-after-free, TSan: a race on the freed frame). The work ends from just before to
  // just after the deadline, so the two meet in every order.
  for (int i = 0; i < 3000; ++i) {
    const auto deadline = scopekit::executor::clock::now() + 50us;
    const auto end = deadline + std::chrono::microseconds{i % 60} - 10us;
    ASSERT_EQ(run(scopekit::with_deadline(deadline, busy_until(end))), 7);
  }
}

// Resumes the awaiting coroutine from the executor's queue, in its next batch.
struct yield_to_executor {
  bool await_ready() const noexcept { return false; }
  template <class P>
  void await_suspend(std::coroutine_handle<P> h) const {
    scopekit::detail::context_of(h).exec->post(h);
  }
  void await_resume() const noexcept {}
};

// Runs past `deadline`, then lets the loop take its next batch: this task first, the
// deadline's timer (due by then) after it.
task<int> finish_just_past(scopekit::executor::clock::time_point deadline) {
  while (scopekit::executor::clock::now() <= deadline) {
  }
  co_await yield_to_executor{};
  co_return 7;
}

TEST(DeadlineOnRunLoop, WorkEndingInTheBatchOfItsDueTimerWins) {
  // with_deadline returns (and its frame, holding the timer, is freed) before the due timer's
  // turn in the batch comes: the timer must be cancelled then, not fire from freed memory
  // (heap-use-after-free under ASan).
  const auto deadline = scopekit::executor::clock::now() + 2ms;
  EXPECT_EQ(sync_wait(scopekit::with_deadline(deadline, finish_just_past(deadline))), 7);
}

// An executor that makes the race of a multi-threaded executor happen every time: its firing
// thread takes a scheduled timer at once (from then on cancel() fails), and calls fire only
// after the timer's owner has tried to cancel it and failed. Continuations run on a pool.
class late_firing_executor final : public scopekit::executor {
public:
  late_firing_executor() = default;
  late_firing_executor(const late_firing_executor&) = delete;
  late_firing_executor& operator=(const late_firing_executor&) = delete;
  late_firing_executor(late_firing_executor&&) = delete;
  late_firing_executor& operator=(late_firing_executor&&) = delete;
  ~late_firing_executor() override { firing_.join(); }

  void post(std::coroutine_handle<> continuation) noexcept override { pool_.post(continuation); }
  void schedule(scopekit::timer_node& timer) override {
    firing_ = std::thread{[this, &timer, fire = timer.fire] {  // fire read before taking it
      std::unique_lock lock{mutex_};
      taken_.store(true);  // cancel() fails from now on
      changed_.wait(lock, [this] { return cancel_failed_; });
      lock.unlock();
      fire(timer);
    }};
  }
  [[nodiscard]] bool cancel(scopekit::timer_node& /*timer*/) noexcept override {
    while (!taken_.load()) {  // the firing thread takes it first, always
      std::this_thread::yield();
    }
    std::lock_guard lock{mutex_};
    cancel_failed_ = true;
    changed_.notify_one();
    return false;
  }

private:
  scopekit::thread_pool pool_{2};
  std::mutex mutex_;
  std::condition_variable changed_;
  std::atomic<bool> taken_{false};
  bool cancel_failed_ = false;
  std::thread firing_;
};

TEST(DeadlineOnManyThreads, FailedCancelWaitsForTheFiringTimer) {
  // The work ends after the timer was taken to fire, and fire runs only after cancel() failed:
  // the timer (in with_deadline's frame) must outlive that fire.
  for (int i = 0; i < 50; ++i) {
    late_firing_executor exec;
    EXPECT_EQ(scopekit::block_on(exec, scopekit::with_timeout(1h, quick())), 5);
  }
}

}  // namespace
