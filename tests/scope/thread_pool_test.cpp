// Tests for scopekit/thread_pool.hpp: work runs on the workers, several at once, timers fire
// and cancel, and shutdown runs what was posted and joins, leaving nothing alive.
#include "scopekit/thread_pool.hpp"

#include "scopekit/async_scope.hpp"
#include "scopekit/block_on.hpp"
#include "scopekit/sleep.hpp"
#include "scopekit/start_detached.hpp"
#include "scopekit/task.hpp"
#include "support/counted.hpp"

#include <gtest/gtest.h>

#include <atomic>
#include <chrono>
#include <exception>
#include <latch>
#include <stdexcept>
#include <thread>
#include <type_traits>

namespace {

using namespace std::chrono_literals;
using scopekit::task;
using scopekit::thread_pool;

static_assert(std::is_base_of_v<scopekit::executor, thread_pool>);
static_assert(!std::is_copy_constructible_v<thread_pool> && !std::is_move_constructible_v<thread_pool>);
static_assert(noexcept(std::declval<thread_pool&>().post(std::coroutine_handle<>{})));

task<std::thread::id> where() { co_return std::this_thread::get_id(); }

TEST(ThreadPool, RunsWorkOnItsWorkers) {
  thread_pool pool{2};
  EXPECT_NE(scopekit::block_on(pool, where()), std::this_thread::get_id());
}

TEST(ThreadPool, ZeroWorkersIsRefused) { EXPECT_THROW(thread_pool{0}, std::invalid_argument); }

task<> meet(std::latch& all) {
  all.arrive_and_wait();  // blocks this worker until every child has arrived
  co_return;
}

TEST(ThreadPool, RunsAsManyCoroutinesAtOnceAsItHasWorkers) {
  // Four children that each block their worker until all four have arrived: this completes
  // only if the four run at the same time.
  thread_pool pool{4};
  std::latch all{4};
  auto body = [&all](scopekit::async_scope& s) -> task<> {
    for (int i = 0; i < 4; ++i) {
      s.spawn(meet(all));
    }
    co_return;
  };
  scopekit::block_on(pool, scopekit::async_scope::run(body));
  SUCCEED();
}

task<> sleep_then_count(std::atomic<int>& done) {
  co_await scopekit::sleep_for(1ms);
  ++done;
}

TEST(ThreadPool, TimersFireOnTheWorkers) {
  thread_pool pool{3};
  std::atomic<int> done{0};
  auto body = [&done](scopekit::async_scope& s) -> task<> {
    for (int i = 0; i < 100; ++i) {
      s.spawn(sleep_then_count(done));
    }
    co_return;
  };
  scopekit::block_on(pool, scopekit::async_scope::run(body));
  EXPECT_EQ(done.load(), 100);
}

struct never_fires {
  scopekit::timer_node node;
  static void on_fire(scopekit::timer_node& /*fired*/) noexcept { std::terminate(); }
};

TEST(ThreadPool, CancelledTimerNeverFires) {
  thread_pool pool{2};
  never_fires timer{{thread_pool::clock::now() + 1h, &never_fires::on_fire}};
  pool.schedule(timer.node);
  EXPECT_TRUE(pool.cancel(timer.node));
  EXPECT_FALSE(pool.cancel(timer.node));  // no longer scheduled
}

struct live_tag {};
using live = scopekit::test::counted<live_tag>;

task<int> hold_and_yield(live /*object*/, int value) {
  co_await scopekit::sleep_for(0ms);  // a real suspension: resumed by a timer on a worker
  co_return value;
}

TEST(ThreadPool, ShutdownRunsWhatWasPostedAndJoins) {
  std::atomic<int> completed{0};
  for (int round = 0; round < 20; ++round) {
    thread_pool pool{4};
    for (int i = 0; i < 50; ++i) {
      scopekit::start_detached(pool, hold_and_yield(live{}, i),
                               [&completed](const std::exception_ptr& error,
                                            std::optional<int> value) {
                                 if (!error && value) {
                                   ++completed;
                                 }
                               });
    }
    // The pool is destroyed at once: posted work and due timers still run, then it joins.
  }
  // Every task completed (its callback ran), and no frame, argument or callback outlived its pool.
  EXPECT_EQ(completed.load(), 20 * 50);
  EXPECT_EQ(live::live(), 0);
}

}  // namespace
