// Tests for the public bridges into scopekit: block_on, on, start_detached, the public context
// a foreign coroutine type passes on (context_provider), and spawn of any awaitable.
#include "scopekit/async_scope.hpp"
#include "scopekit/block_on.hpp"
#include "scopekit/context.hpp"
#include "scopekit/on.hpp"
#include "scopekit/oneshot.hpp"
#include "scopekit/sleep.hpp"
#include "scopekit/start_detached.hpp"
#include "scopekit/stopped_error.hpp"
#include "scopekit/sync_wait.hpp"
#include "scopekit/task.hpp"
#include "scopekit/thread_pool.hpp"

#include <gtest/gtest.h>

#include <atomic>
#include <chrono>
#include <coroutine>
#include <exception>
#include <future>
#include <optional>
#include <stdexcept>
#include <stop_token>
#include <thread>
#include <type_traits>
#include <utility>

namespace {

using namespace std::chrono_literals;
using scopekit::async_scope;
using scopekit::task;
using scopekit::thread_pool;

// The public signature of with_context names the public context type.
static_assert(std::is_same_v<scopekit::detail::coroutine_context, scopekit::coroutine_context>);
static_assert(scopekit::context_provider<task<int>::promise_type>);

task<int> add_after_sleep(int a, int b) {
  co_await scopekit::sleep_for(1ms);
  co_return a + b;
}

task<int> fail_after_sleep() {
  co_await scopekit::sleep_for(1ms);
  throw std::out_of_range("row 7");
}

task<> sleep_an_hour() { co_await scopekit::sleep_for(1h); }

// ---- block_on ------------------------------------------------------------------------------------
TEST(BlockOn, ReturnsTheValueComputedOnTheExecutor) {
  thread_pool pool{2};
  EXPECT_EQ(scopekit::block_on(pool, add_after_sleep(2, 3)), 5);
}

TEST(BlockOn, RethrowsTheTasksException) {
  thread_pool pool{2};
  EXPECT_THROW(scopekit::block_on(pool, fail_after_sleep()), std::out_of_range);
}

TEST(BlockOn, TheTaskObservesTheGivenStopToken) {
  thread_pool pool{2};
  std::stop_source stop;
  std::thread stopper{[&stop] { stop.request_stop(); }};  // before or during the sleep
  EXPECT_THROW(scopekit::block_on(pool, sleep_an_hour(), stop.get_token()),
               scopekit::stopped_error);
  stopper.join();
}

// ---- on ------------------------------------------------------------------------------------------
task<std::thread::id> on_pool_and_back(thread_pool& pool) {
  const int sum = co_await scopekit::on(pool, add_after_sleep(20, 22));
  EXPECT_EQ(sum, 42);
  co_return std::this_thread::get_id();
}

TEST(On, RunsOnTheGivenExecutorAndResumesOnTheCallers) {
  thread_pool pool{2};
  // sync_wait's coroutine continues on sync_wait's thread after the task ran on the pool.
  EXPECT_EQ(scopekit::sync_wait(on_pool_and_back(pool)), std::this_thread::get_id());
}

task<> sleeps_until_stopped_on(thread_pool& pool) { co_await scopekit::on(pool, sleep_an_hour()); }

TEST(On, PassesTheCallersStopToken) {
  thread_pool pool{2};
  std::stop_source stop;
  std::thread stopper{[&stop] { stop.request_stop(); }};
  EXPECT_THROW(scopekit::sync_wait(sleeps_until_stopped_on(pool), stop.get_token()),
               scopekit::stopped_error);
  stopper.join();
}

// A coroutine type of another library (cppcoro-style, started eagerly, reporting through a
// std::promise). With `Context` true its promise models context_provider with the pool.
template <bool Context>
struct foreign {
  struct promise_type {
    scopekit::coroutine_context ctx;
    promise_type() = default;
    template <class... Args>
    explicit promise_type(thread_pool& pool, Args&... /*rest*/) : ctx{&pool, {}} {}
    const scopekit::coroutine_context& context() const noexcept
      requires Context
    {
      return ctx;
    }
    foreign get_return_object() noexcept { return {}; }
    std::suspend_never initial_suspend() noexcept { return {}; }
    std::suspend_never final_suspend() noexcept { return {}; }
    void return_void() noexcept {}
    void unhandled_exception() noexcept { std::terminate(); }
  };
};
static_assert(scopekit::context_provider<foreign<true>::promise_type>);
static_assert(!scopekit::context_provider<foreign<false>::promise_type>);

foreign<false> foreign_awaits_on(thread_pool& pool, std::promise<int>& result) {
  // No context of its own: on() moves the work to the pool, and the foreign coroutine goes on
  // on the worker that completed it.
  result.set_value(co_await scopekit::on(pool, add_after_sleep(1, 2)));
}

TEST(On, WorksFromAForeignCoroutineWithoutContext) {
  thread_pool pool{2};
  std::promise<int> result;
  foreign_awaits_on(pool, result);
  EXPECT_EQ(result.get_future().get(), 3);
}

// ---- a foreign coroutine type that passes its context on ---------------------------------------
foreign<true> foreign_runs_scope([[maybe_unused]] thread_pool& pool, std::promise<int>& result) {
  auto body = [](async_scope& s) -> task<int> {
    s.spawn(add_after_sleep(1, 1));  // any awaitable: a task<int>, its value dropped
    s.push([]() -> task<> { co_await scopekit::sleep_for(1ms); });
    co_return co_await add_after_sleep(4, 5);
  };
  try {
    co_await scopekit::sleep_for(1ms);  // needs the executor the promise passes on
    result.set_value(co_await async_scope::run(body));
  } catch (...) {
    result.set_exception(std::current_exception());
  }
}

TEST(ForeignCoroutine, AsyncScopeRunsInAContextProvider) {
  thread_pool pool{2};
  std::promise<int> result;
  foreign_runs_scope(pool, result);
  EXPECT_EQ(result.get_future().get(), 9);  // not logic_error("the coroutine has no executor")
}

// ---- start_detached ------------------------------------------------------------------------------
TEST(StartDetached, CallsBackWithTheValueOrTheError) {
  thread_pool pool{2};
  std::promise<int> value;
  std::promise<void> failed;
  scopekit::start_detached(pool, add_after_sleep(30, 12),
                           [&value](const std::exception_ptr& error, std::optional<int> v) {
                             EXPECT_FALSE(error);
                             value.set_value(v.value_or(-1));
                           });
  scopekit::start_detached(pool, fail_after_sleep(),
                           [&failed](std::exception_ptr error, std::optional<int> v) {
                             EXPECT_FALSE(v.has_value());
                             failed.set_exception(std::move(error));
                           });
  EXPECT_EQ(value.get_future().get(), 42);
  EXPECT_THROW(failed.get_future().get(), std::out_of_range);
}

TEST(StartDetached, VoidTaskAndStopToken) {
  thread_pool pool{2};
  std::stop_source stop;
  std::promise<void> done;
  scopekit::start_detached(
      pool, sleep_an_hour(), [&done](std::exception_ptr error) { done.set_exception(std::move(error)); },
      stop.get_token());
  stop.request_stop();
  EXPECT_THROW(done.get_future().get(), scopekit::stopped_error);
}

// ---- spawn of any awaitable ----------------------------------------------------------------------
TEST(Spawn, AcceptsAnyAwaitable) {
  thread_pool pool{2};
  std::thread sender;
  int delivered = 0;
  auto body = [&](async_scope& s) -> task<> {
    auto [tx, rx] = scopekit::make_oneshot<int>();
    s.spawn(std::move(rx));          // a oneshot_receiver: joined once the value arrives
    s.spawn(add_after_sleep(1, 2));  // a task<int>
    sender = std::thread{[tx = std::move(tx), &delivered]() mutable {
      delivered = tx.set_value(7) ? 1 : 0;
    }};
    co_return;
  };
  scopekit::block_on(pool, async_scope::run(body));
  sender.join();
  EXPECT_EQ(delivered, 1);  // the receiver was still waiting: the scope joined it
}

}  // namespace
