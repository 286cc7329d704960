// Tests for scopekit/async_exit_stack.hpp: CPython's AsyncExitStack cases translated (LIFO,
// enter errors register nothing, exception chaining, pop_all, deep nesting), plus allocation,
// shielding from stop, and the no-loss error rule.
#include "scopekit/async_exit_stack.hpp"

#include "scopekit/sleep.hpp"
#include "scopekit/sync_wait.hpp"
#include "scopekit/task.hpp"
#include "support/allocation_counter.hpp"
#include "support/executors.hpp"
#include "support/resumable.hpp"
#include "support/stack_probe.hpp"

#include <gtest/gtest.h>

#include <algorithm>
#include <chrono>
#include <coroutine>
#include <cstdint>
#include <stdexcept>
#include <stop_token>
#include <string>
#include <vector>

namespace {

using scopekit::async_exit_stack;
using scopekit::scope_error;
using scopekit::sync_wait;
using scopekit::task;

// The behaviour runs on a run_loop and on a thread_pool; what it costs (allocations, stack
// depth) is measured on the run_loop alone (AsyncExitStackCost), where nothing else allocates.
class AsyncExitStack : public scopekit::test::on_each_executor {};
SCOPEKIT_EXECUTORS(AsyncExitStack);

struct error_a : std::runtime_error {
  error_a() : std::runtime_error("a") {}
};
struct error_b : std::runtime_error {
  error_b() : std::runtime_error("b") {}
};

/// A resource with an async close that records itself.
struct connection {
  static inline int live = 0;
  std::string name;
  std::vector<std::string>* log;
  connection(std::string n, std::vector<std::string>* l) : name(std::move(n)), log(l) { ++live; }
  connection(connection&& other) noexcept : name(std::move(other.name)), log(other.log) { ++live; }
  connection& operator=(connection&&) = delete;
  connection(const connection&) = delete;
  connection& operator=(const connection&) = delete;
  ~connection() { --live; }
  task<> close() const {
    log->push_back("close " + name);
    co_return;
  }
};

task<connection> open(std::string name, std::vector<std::string>* log) {
  co_return connection{std::move(name), log};
}

task<connection> open_fails() {
  throw error_a{};
  co_return connection{"never", nullptr};
}

static_assert(scopekit::async_closeable<connection>);
static_assert(!scopekit::async_closeable<int>);
static_assert(!std::is_copy_constructible_v<async_exit_stack>);
static_assert(std::is_nothrow_move_constructible_v<async_exit_stack>);

// ---- Order ------------------------------------------------------------------------------------
task<std::vector<std::string>> mixed_cleanups() {
  std::vector<std::string> log;
  async_exit_stack stack;
  stack.push([&] { log.push_back("sync 1"); });
  stack.push([&]() -> task<> {
    log.push_back("async 2");
    co_return;
  });
  connection& c = co_await stack.enter(open("db", &log));
  EXPECT_EQ(c.name, "db");
  stack.push([&] { log.push_back("sync 4"); });
  co_await stack.close();
  co_return log;
}

TEST_P(AsyncExitStack, RunsCleanupsLastInFirstOut) {
  EXPECT_EQ(run(mixed_cleanups()),
            (std::vector<std::string>{"sync 4", "close db", "async 2", "sync 1"}));
}

task<int> close_twice() {
  int runs = 0;
  async_exit_stack stack;
  stack.push([&] { ++runs; });
  co_await stack.close();
  co_await stack.close();  // nothing left to run
  co_return runs;
}

TEST_P(AsyncExitStack, CloseIsIdempotent) { EXPECT_EQ(run(close_twice()), 1); }

// ---- enter -------------------------------------------------------------------------------------
task<std::size_t> enter_that_fails() {
  async_exit_stack stack;
  try {
    co_await stack.enter(open_fails());
  } catch (const error_a&) {
  }
  co_return stack.size();
}

TEST_P(AsyncExitStack, FailedEnterRegistersNothing) { EXPECT_EQ(run(enter_that_fails()), 0U); }

task<std::vector<std::string>> enter_keeps_resource_alive() {
  std::vector<std::string> log;
  async_exit_stack stack;
  connection& first = co_await stack.enter(open("first", &log));
  for (int i = 0; i < 20; ++i) {  // grow past the inline entries: references stay valid
    stack.push([] {});
  }
  log.push_back("still " + first.name);
  EXPECT_EQ(connection::live, 1);  // owned by the stack, not copied around
  co_await stack.close();
  EXPECT_EQ(connection::live, 0);  // destroyed once its close ran
  co_return log;
}

TEST_P(AsyncExitStack, EnterOwnsResourceUntilItsCloseRan) {
  EXPECT_EQ(run(enter_keeps_resource_alive()),
            (std::vector<std::string>{"still first", "close first"}));
}

task<connection&> borrow(connection& c) { co_return c; }

task<std::vector<std::string>> enter_borrowed() {
  std::vector<std::string> log;
  connection mine{"mine", &log};
  async_exit_stack stack;
  connection& same = co_await stack.enter(borrow(mine));
  EXPECT_EQ(&same, &mine);  // a reference result is closed, not copied or owned
  co_await stack.close();
  co_return log;
}

TEST_P(AsyncExitStack, EnterOfReferenceClosesWithoutOwning) {
  EXPECT_EQ(run(enter_borrowed()), std::vector<std::string>{"close mine"});
}

// ---- Errors ------------------------------------------------------------------------------------
task<std::vector<std::string>> every_cleanup_runs() {
  std::vector<std::string> log;
  async_exit_stack stack;
  stack.push([&] { log.push_back("first registered"); });
  stack.push([&]() -> task<> {
    log.push_back("async throws");
    throw error_b{};
    co_return;
  });
  stack.push([&] {
    log.push_back("sync throws");
    throw error_a{};
  });
  try {
    co_await stack.close();
  } catch (const scope_error&) {
  }
  co_return log;
}

TEST_P(AsyncExitStack, EveryCleanupRunsWhenEarlierOnesThrow) {
  EXPECT_EQ(run(every_cleanup_runs()),
            (std::vector<std::string>{"sync throws", "async throws", "first registered"}));
}

task<> one_failure() {
  async_exit_stack stack;
  stack.push([] {});
  stack.push([] { throw error_b{}; });
  co_await stack.close();
}

TEST_P(AsyncExitStack, SingleErrorIsRethrownUnchanged) {
  EXPECT_THROW(run(one_failure()), error_b);
}

task<> lone_async_cleanup_fails() {
  async_exit_stack stack;
  stack.push([]() -> task<> {
    co_await scopekit::sleep_for(std::chrono::milliseconds{0});
    throw error_b{};
  });
  co_await stack.close();  // the one async cleanup is awaited directly
}

TEST_P(AsyncExitStack, LoneAsyncCleanupErrorIsRethrown) {
  EXPECT_THROW(run(lone_async_cleanup_fails()), error_b);
}

task<std::vector<std::string>> cleanup_throws_before_returning_its_task() {
  std::vector<std::string> log;
  async_exit_stack stack;
  stack.push([&]() -> task<> {  // not a coroutine: throws while making its task
    log.push_back("async throws");
    throw error_a{};
  });
  stack.push([&] { log.push_back("sync"); });  // runs first, leaving the async one alone
  try {
    co_await stack.close();
  } catch (const error_a&) {
    log.push_back("caught");
  }
  co_return log;
}

TEST_P(AsyncExitStack, CleanupThrowingBeforeReturningItsTaskIsCollected) {
  EXPECT_EQ(run(cleanup_throws_before_returning_its_task()),
            (std::vector<std::string>{"sync", "async throws", "caught"}));
}

task<> two_failures() {
  async_exit_stack stack;
  stack.push([] { throw error_b{}; });  // runs second
  stack.push([] { throw error_a{}; });  // runs first: the primary
  co_await stack.close();
}

// How to reach every error: the primary is the nested exception, the rest are listed.
TEST_P(AsyncExitStack, SeveralErrorsAreAllReachableFromTheOneThrown) {
  try {
    run(two_failures());
    FAIL() << "close() did not throw";
  } catch (const scope_error& e) {
    EXPECT_THROW(std::rethrow_if_nested(e), error_a);  // the primary, by its own type
    EXPECT_THROW(e.rethrow_primary(), error_a);
    ASSERT_EQ(e.secondary().size(), 1U);
    EXPECT_THROW(std::rethrow_exception(e.secondary()[0]), error_b);
    EXPECT_NE(std::string(e.what()).find("2 errors"), std::string::npos);
  }
}

task<> cleanup_rethrows_what_it_was_handed() {
  async_exit_stack stack;
  stack.push([](const std::exception_ptr& current) {  // runs second: rethrows error_a
    if (current) {
      std::rethrow_exception(current);
    }
  });
  stack.push([] { throw error_a{}; });  // runs first
  co_await stack.close();
}

// Python's ExitStack reports a re-raised exception once; one error is not a scope_error.
TEST_P(AsyncExitStack, ACleanupRethrowingTheErrorItWasHandedKeepsOneError) {
  EXPECT_THROW(run(cleanup_rethrows_what_it_was_handed()), error_a);
}

task<std::vector<std::string>> push_during_close_of_a_lone_async_cleanup(bool two_entries) {
  std::vector<std::string> log;
  async_exit_stack stack;
  if (two_entries) {
    stack.push([&log]() -> task<> {
      log.push_back("older");
      co_return;
    });
  }
  stack.push([&log, &stack]() -> task<> {
    log.push_back("async");
    stack.push([&log] { log.push_back("pushed during close"); });
    co_return;
  });
  co_await stack.close();
  log.push_back(stack.empty() ? "empty" : "left behind");
  co_return log;
}

// Python's ExitStack runs a callback pushed by a running one; so must close(), whatever the
// number of entries (a lone async cleanup was once awaited on a path that never looked back).
TEST_P(AsyncExitStack, ACleanupPushedDuringCloseRuns) {
  EXPECT_EQ(run(push_during_close_of_a_lone_async_cleanup(false)),
            (std::vector<std::string>{"async", "pushed during close", "empty"}));
  EXPECT_EQ(run(push_during_close_of_a_lone_async_cleanup(true)),
            (std::vector<std::string>{"async", "pushed during close", "older", "empty"}));
}

// ---- enter()s suspended at once, memory running out after they acquired ----------------------
/// An awaitable that suspends until the test opens it (on the test's thread).
class gate {
public:
  bool await_ready() const noexcept { return false; }
  void await_suspend(std::coroutine_handle<> waiting) noexcept { waiting_ = waiting; }
  void await_resume() const noexcept {}
  void open() const { waiting_.resume(); }

private:
  std::coroutine_handle<> waiting_;
};

task<connection> open_after(gate& g, std::string name, std::vector<std::string>* log) {
  co_await g;
  co_return connection{std::move(name), log};
}

scopekit::test::resumable enter_after(async_exit_stack& stack, gate& g, std::string name,
                                      std::vector<std::string>* log) {
  (void)co_await stack.enter(open_after(g, std::move(name), log));
}

// Each enter() reserves its own entry before acquiring: two suspended at once, with the inline
// room full, must both register without allocating once their resources exist.
TEST(AsyncExitStackCost, EnterSuspendedTogetherRegisterWithoutAllocatingAfterAcquiring) {
  SCOPEKIT_SKIP_WITHOUT_ALLOCATION_COUNTER();
  std::vector<std::string> log;
  async_exit_stack stack;
  // The overflow storage gets room for 8 at the ninth push and doubles when full: after 23
  // pushes it holds 15 of 16, so one free slot is left, for two enter()s that need one each.
  constexpr std::size_t pushed = async_exit_stack::inline_capacity + 15;
  for (std::size_t i = 0; i < pushed; ++i) {
    stack.push([] {});
  }
  gate first;
  gate second;
  auto a = enter_after(stack, first, "a", &log);
  auto b = enter_after(stack, second, "b", &log);
  a.resume();  // both acquisitions are now suspended, each enter() holding its reservation
  b.resume();
  {
    const scopekit::test::failing_allocations no_memory;
    first.open();  // registering must not allocate: it would terminate (a noexcept path)
    second.open();
  }
  EXPECT_TRUE(a.done() && b.done());
  EXPECT_EQ(stack.size(), pushed + 2);  // both registered
  sync_wait(stack.close());
  EXPECT_EQ(log, (std::vector<std::string>{"close b", "close a"}));
}

task<bool> later_cleanup_sees_earlier_error() {
  bool saw_a = false;
  async_exit_stack stack;
  stack.push([&](const std::exception_ptr& current) {
    try {
      std::rethrow_exception(current);
    } catch (const error_a&) {
      saw_a = true;
    }
  });
  stack.push([] { throw error_a{}; });
  try {
    co_await stack.close();
  } catch (const error_a&) {
  }
  co_return saw_a;
}

TEST_P(AsyncExitStack, CleanupSeesTheErrorCurrentlyPropagating) {
  EXPECT_TRUE(run(later_cleanup_sees_earlier_error()));
}

task<std::vector<std::exception_ptr>> body_error_then_cancellation_in_cleanup() {
  std::vector<std::exception_ptr> errors;
  async_exit_stack stack;
  stack.push([] { throw error_b{}; });
  stack.push([] { throw scopekit::stopped_error{}; });  // a cancellation during cleanup
  std::exception_ptr body_error;
  try {
    throw error_a{};
  } catch (...) {
    body_error = std::current_exception();
  }
  errors.push_back(body_error);
  co_await stack.close_collecting(errors, body_error);
  co_return errors;
}

// Python's flaw: a cancellation arriving during cleanup replaces the chain. Here it is one more
// entry, and the body's error and the other cleanup's are still there.
TEST_P(AsyncExitStack, CancellationDuringCleanupLosesNothing) {
  const auto errors = run(body_error_then_cancellation_in_cleanup());
  ASSERT_EQ(errors.size(), 3U);
  EXPECT_THROW(std::rethrow_exception(errors[0]), error_a);
  EXPECT_THROW(std::rethrow_exception(errors[1]), scopekit::stopped_error);
  EXPECT_THROW(std::rethrow_exception(errors[2]), error_b);
}

// ---- Shielding ---------------------------------------------------------------------------------
task<bool> cleanup_under_stop() {
  bool slept = false;
  async_exit_stack stack;
  stack.push([&]() -> task<> {
    co_await scopekit::sleep_for(std::chrono::milliseconds{1});  // would throw if not shielded
    slept = true;
  });
  co_await stack.close();
  co_return slept;
}

TEST_P(AsyncExitStack, CleanupsAreShieldedFromStop) {
  std::stop_source source;
  source.request_stop();
  EXPECT_TRUE(run(cleanup_under_stop(), source.get_token()));
}

// ---- pop_all -----------------------------------------------------------------------------------
task<std::vector<std::string>> pop_all_transfers() {
  std::vector<std::string> log;
  async_exit_stack outer;
  for (int i = 0; i < 10; ++i) {  // inline and overflow entries
    outer.push([&log, i] { log.push_back(std::to_string(i)); });
  }
  async_exit_stack moved = outer.pop_all();
  EXPECT_TRUE(outer.empty());
  co_await outer.close();
  EXPECT_TRUE(log.empty());  // the old stack has nothing left to run
  co_await moved.close();
  co_return log;
}

TEST_P(AsyncExitStack, PopAllMovesEveryEntry) {
  EXPECT_EQ(run(pop_all_transfers()),
            (std::vector<std::string>{"9", "8", "7", "6", "5", "4", "3", "2", "1", "0"}));
}

// ---- Depth and allocation ----------------------------------------------------------------------
task<std::uintptr_t> ten_thousand_entries() {
  std::uintptr_t low = UINTPTR_MAX;
  std::uintptr_t high = 0;
  auto record = [&] {
    const std::uintptr_t depth = scopekit::test::stack_address();
    low = std::min(low, depth);
    high = std::max(high, depth);
  };
  async_exit_stack stack;
  for (int i = 0; i < 10'000; ++i) {
    if (i % 2 == 0) {
      stack.push(record);
    } else {
      stack.push([&]() -> task<> {
        record();
        co_return;
      });
    }
  }
  co_await stack.close();
  co_return high - low;
}

TEST(AsyncExitStackCost, TenThousandEntriesUnwindWithoutRecursion) {
  EXPECT_LT(sync_wait(ten_thousand_entries()), 4096U);
}

task<long> push_and_close_eight(int& runs) {
  async_exit_stack stack;
  const long before = scopekit::test::allocations();
  for (std::size_t i = 0; i < async_exit_stack::inline_capacity; ++i) {
    stack.push([&runs] { ++runs; });
  }
  co_await stack.close();  // synchronous cleanups need no coroutine frame
  co_return scopekit::test::allocations() - before;
}

TEST(AsyncExitStackCost, PushAndCloseOfEightSynchronousCleanupsDoNotAllocate) {
  SCOPEKIT_SKIP_WITHOUT_ALLOCATION_COUNTER();
  int runs = 0;
  EXPECT_EQ(sync_wait(push_and_close_eight(runs)), 0);
  EXPECT_EQ(runs, 8);
}

task<long> push_many(std::size_t count) {
  async_exit_stack stack;
  const long before = scopekit::test::allocations();
  for (std::size_t i = 0; i < count; ++i) {
    stack.push([] {});
  }
  const long allocated = scopekit::test::allocations() - before;
  co_await stack.close();
  co_return allocated;
}

TEST(AsyncExitStackCost, OverflowStorageGrowsGeometrically) {
  SCOPEKIT_SKIP_WITHOUT_ALLOCATION_COUNTER();
  // 1,000 entries past the inline ones: a handful of reallocations, not one per push.
  EXPECT_LE(sync_wait(push_many(1'008)), 12);
}

TEST(AsyncExitStackCost, FirstEightSmallCleanupsDoNotAllocate) {
  SCOPEKIT_SKIP_WITHOUT_ALLOCATION_COUNTER();
  int runs = 0;
  std::vector<std::string> log;
  {
    async_exit_stack stack;
    const long before = scopekit::test::allocations();
    for (std::size_t i = 0; i < async_exit_stack::inline_capacity; ++i) {
      stack.push([&runs] { ++runs; });
    }
    EXPECT_EQ(scopekit::test::allocations() - before,
              0);  // 8 entries, no allocation of the stack's own
    stack.push([&runs] { ++runs; });
    EXPECT_GT(scopekit::test::allocations() - before, 0);  // the ninth needs the overflow storage
    sync_wait(stack.close());
  }
  EXPECT_EQ(runs, 9);
}

// ---- Misuse ------------------------------------------------------------------------------------
TEST(AsyncExitStackDeathTest, DestroyingWithPendingCleanupsAborts) {
  GTEST_FLAG_SET(death_test_style, "threadsafe");
  EXPECT_DEATH(
      {
        async_exit_stack stack;
        stack.push([] {});
      },
      "destroyed with 1 cleanup");
}

}  // namespace
