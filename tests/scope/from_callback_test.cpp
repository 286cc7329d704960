// Tests for scopekit/from_callback.hpp: a callback API awaited from a task, on a run_loop and
// on a thread_pool. The result may come inside initiate, from another thread, after a stop, or
// twice; a stop calls cancel once; exactly one resumption happens, on the awaiter's executor.
#include "scopekit/from_callback.hpp"

#include "scopekit/stopped_error.hpp"
#include "scopekit/task.hpp"
#include "support/counted.hpp"
#include "support/executors.hpp"

#include <gtest/gtest.h>

#include <atomic>
#include <exception>
#include <functional>
#include <latch>
#include <mutex>
#include <stdexcept>
#include <stop_token>
#include <thread>
#include <type_traits>
#include <utility>

namespace {

using scopekit::callback_completion;
using scopekit::stopped_error;
using scopekit::task;

static_assert(std::is_copy_constructible_v<callback_completion<int>>);
static_assert(std::is_constructible_v<std::function<void(int)>, callback_completion<int>>);
static_assert(std::is_constructible_v<std::function<void()>, callback_completion<void>>);

/// A callback API of the usual shape: start() keeps the callback, something completes it later,
/// cancel() asks it to give up (and, like many real APIs, does not call the callback itself).
class fake_api {
public:
  void start(std::function<void(int)> callback) {
    std::lock_guard lock{mutex_};
    callback_ = std::move(callback);
    started_.count_down();
  }
  void cancel() noexcept { cancels_.fetch_add(1); }
  /// Calls the kept callback (a copy: it stays callable again).
  void complete(int value) {
    std::function<void(int)> callback;
    {
      std::lock_guard lock{mutex_};
      callback = callback_;
    }
    callback(value);
  }
  void wait_started() { started_.wait(); }
  [[nodiscard]] int cancels() const noexcept { return cancels_.load(); }

private:
  std::mutex mutex_;
  std::function<void(int)> callback_;
  std::latch started_{1};
  std::atomic<int> cancels_{0};
};

task<int> await_api(fake_api& api) {
  co_return co_await scopekit::from_callback<int>(
      [&api](callback_completion<int> done) { api.start(std::move(done)); },
      [&api]() noexcept { api.cancel(); });
}

class FromCallback : public scopekit::test::on_each_executor {};
SCOPEKIT_EXECUTORS(FromCallback);

task<std::thread::id> await_result_from_a_thread(fake_api& api, int& value) {
  value = co_await await_api(api);
  co_return std::this_thread::get_id();
}

TEST_P(FromCallback, AResultFromAnotherThreadResumesOnTheAwaitersExecutor) {
  fake_api api;
  std::thread::id api_thread;
  std::thread completer{[&api, &api_thread] {
    api_thread = std::this_thread::get_id();
    api.wait_started();
    api.complete(42);
  }};
  int value = 0;
  const std::thread::id resumed_on = run(await_result_from_a_thread(api, value));
  completer.join();
  EXPECT_EQ(value, 42);
  EXPECT_NE(resumed_on, api_thread);  // posted back to the executor, not run on the API's thread
  if (!pooled()) {
    EXPECT_EQ(resumed_on, std::this_thread::get_id());  // the run_loop's thread
  }
}

task<int> completed_inside_initiate() {
  co_return co_await scopekit::from_callback<int>([](const callback_completion<int>& done) { done(7); },
                                                   []() noexcept {});
}

TEST_P(FromCallback, ACallbackCalledInsideInitiateDeliversAtOnce) {
  EXPECT_EQ(run(completed_inside_initiate()), 7);
}

task<> fails_through_the_callback() {
  co_await scopekit::from_callback<void>(
      [](const callback_completion<void>& done) {
        std::thread{[done] { done.fail(std::make_exception_ptr(std::out_of_range("page"))); }}.join();
      },
      []() noexcept {});
}

TEST_P(FromCallback, AnErrorDeliveredThroughTheCallbackIsRethrown) {
  EXPECT_THROW(run(fails_through_the_callback()), std::out_of_range);
}

TEST_P(FromCallback, AStopCallsCancelOnceAndALateResultIsDropped) {
  fake_api api;
  std::stop_source stop;
  std::thread stopper{[&api, &stop] {
    api.wait_started();  // the callback is with the API: the co_await is in progress
    stop.request_stop();
  }};
  EXPECT_THROW(run(await_api(api), stop.get_token()), stopped_error);
  stopper.join();
  EXPECT_EQ(api.cancels(), 1);
  api.complete(5);  // after the awaiter is gone: nothing happens
  api.complete(6);
  EXPECT_EQ(api.cancels(), 1);
}

TEST_P(FromCallback, AStopBeforeTheCoAwaitDoesNotInitiate) {
  std::stop_source stop;
  stop.request_stop();
  int initiated = 0;
  auto work = [](int& count) -> task<int> {
    co_return co_await scopekit::from_callback<int>([&count](const callback_completion<int>&) { ++count; },
                                                    []() noexcept {});
  };
  EXPECT_THROW(run(work(initiated), stop.get_token()), stopped_error);
  EXPECT_EQ(initiated, 0);
}

TEST_P(FromCallback, ACallbackCalledTwiceDeliversTheFirstValue) {
  fake_api api;
  std::thread completer{[&api] {
    api.wait_started();
    api.complete(1);
    api.complete(2);  // may come while the coroutine runs, or after it has finished
  }};
  EXPECT_EQ(run(await_api(api)), 1);
  completer.join();
}

// The race the header promises to survive: the result and a stop at the same moment, from two
// threads. Whichever claims first resumes; cancel runs only if the stop won. Run under TSan.
TEST_P(FromCallback, AResultRacingAStopResumesExactlyOnce) {
  constexpr int rounds = 300;
  for (int i = 0; i < rounds; ++i) {
    fake_api api;
    std::stop_source stop;
    std::latch go{2};
    std::thread completer{[&] {
      api.wait_started();
      go.arrive_and_wait();
      api.complete(i);
    }};
    std::thread stopper{[&] {
      api.wait_started();
      go.arrive_and_wait();
      stop.request_stop();
    }};
    bool got_value = false;
    try {
      EXPECT_EQ(run(await_api(api), stop.get_token()), i);
      got_value = true;
    } catch (const stopped_error&) {
    }
    completer.join();
    stopper.join();
    EXPECT_EQ(api.cancels(), got_value ? 0 : 1);  // cancel exactly when the stop won
  }
}

}  // namespace
