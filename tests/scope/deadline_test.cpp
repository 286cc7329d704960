// Tests for scopekit/deadline.hpp: in time, too late, and a stop that is the caller's own.
#include "scopekit/deadline.hpp"

#include "scopekit/sleep.hpp"
#include "scopekit/sync_wait.hpp"
#include "scopekit/task.hpp"

#include <gtest/gtest.h>

#include <chrono>
#include <coroutine>
#include <stop_token>

namespace {

using namespace std::chrono_literals;
using scopekit::sync_wait;
using scopekit::task;

task<int> quick() { co_return 5; }

task<int> slow() {
  co_await scopekit::sleep_for(1h);
  co_return 6;
}

TEST(Deadline, WorkThatFinishesInTimeReturnsItsValue) {
  EXPECT_EQ(sync_wait(scopekit::with_timeout(1h, quick())), 5);
}

TEST(Deadline, ExpiredDeadlineIsATimeoutError) {
  EXPECT_THROW(sync_wait(scopekit::with_timeout(1ms, slow())), scopekit::timeout_error);
}

TEST(Deadline, DeadlineInThePastStopsAtOnce) {
  EXPECT_THROW(sync_wait(scopekit::with_deadline(scopekit::executor::clock::now() - 1s, slow())),
               scopekit::timeout_error);
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

TEST(Deadline, WorkEndingInTheBatchOfItsDueTimerWins) {
  // with_deadline returns (and its frame, holding the timer, is freed) before the due timer's
  // turn in the batch comes: the timer must be cancelled then, not fire from freed memory
  // (heap-use-after-free under ASan).
  const auto deadline = scopekit::executor::clock::now() + 2ms;
  EXPECT_EQ(sync_wait(scopekit::with_deadline(deadline, finish_just_past(deadline))), 7);
}

TEST(Deadline, CallersOwnStopStaysAStop) {
  std::stop_source caller;
  caller.request_stop();
  // Not a timeout: the deadline is an hour away; the caller asked to stop.
  EXPECT_THROW(sync_wait(scopekit::with_timeout(1h, slow()), caller.get_token()),
               scopekit::stopped_error);
}

}  // namespace
