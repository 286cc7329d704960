// Tests for scopekit/deadline.hpp: in time, too late, and a stop that is the caller's own.
#include "scopekit/deadline.hpp"

#include "scopekit/sleep.hpp"
#include "scopekit/sync_wait.hpp"
#include "scopekit/task.hpp"

#include <gtest/gtest.h>

#include <chrono>
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

TEST(Deadline, CallersOwnStopStaysAStop) {
  std::stop_source caller;
  caller.request_stop();
  // Not a timeout: the deadline is an hour away; the caller asked to stop.
  EXPECT_THROW(sync_wait(scopekit::with_timeout(1h, slow()), caller.get_token()),
               scopekit::stopped_error);
}

}  // namespace
