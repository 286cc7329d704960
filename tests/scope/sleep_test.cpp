// Tests for scopekit/sleep.hpp: timing lower bound, stop wakes the sleeper, where it resumes.
#include "scopekit/sleep.hpp"

#include "scopekit/sync_wait.hpp"
#include "support/executors.hpp"
#include "scopekit/task.hpp"
#include "support/resumable.hpp"

#include <gtest/gtest.h>

#include <chrono>
#include <stdexcept>
#include <stop_token>
#include <thread>

namespace {

using namespace std::chrono_literals;
using scopekit::stopped_error;
using scopekit::task;

class Sleep : public scopekit::test::on_each_executor {};
SCOPEKIT_EXECUTORS(Sleep);

task<std::chrono::steady_clock::duration> timed_sleep(std::chrono::milliseconds d) {
  const auto start = std::chrono::steady_clock::now();
  co_await scopekit::sleep_for(d);
  co_return std::chrono::steady_clock::now() - start;
}

TEST_P(Sleep, SleepsAtLeastTheDuration) { EXPECT_GE(run(timed_sleep(5ms)), 5ms); }

task<> sleep_an_hour() { co_await scopekit::sleep_for(1h); }

TEST_P(Sleep, StopAlreadyRequestedThrowsAtOnce) {
  std::stop_source source;
  source.request_stop();
  EXPECT_THROW(run(sleep_an_hour(), source.get_token()), stopped_error);
}

task<std::thread::id> sleep_until_stopped(std::stop_source& source, std::thread& stopper) {
  // The stop comes from another thread, before or during the sleep: both must wake us.
  stopper = std::thread([&source] { source.request_stop(); });
  try {
    co_await scopekit::sleep_for(1h);
  } catch (const stopped_error&) {
    co_return std::this_thread::get_id();
  }
  throw std::logic_error("the sleep was not stopped");
}

TEST_P(Sleep, StopFromAnotherThreadWakesSleeperOnItsExecutor) {
  for (int i = 0; i < 200; ++i) {  // both interleavings, many times (under TSan in CI)
    std::stop_source source;
    std::thread stopper;
    const auto resumed_on = run(sleep_until_stopped(source, stopper), source.get_token());
    const std::thread::id stopper_id = stopper.get_id();
    stopper.join();
    ASSERT_NE(resumed_on, stopper_id);  // posted to its executor, not resumed by the stopper
    if (!pooled()) {
      ASSERT_EQ(resumed_on, std::this_thread::get_id());
    }
  }
}

scopekit::test::resumable sleep_without_executor(bool& threw) {
  try {
    co_await scopekit::sleep_for(1ms);
  } catch (const std::logic_error&) {
    threw = true;
  }
}

TEST(Sleep, WithoutExecutorIsALogicError) {
  bool threw = false;
  scopekit::test::resumable co = sleep_without_executor(threw);
  co.resume();
  EXPECT_TRUE(threw);
}

}  // namespace
