// Tests for scopekit/task.hpp: laziness, results, exceptions, symmetric transfer, context.
#include "scopekit/task.hpp"

#include "scopekit/run_loop.hpp"
#include "scopekit/sync_wait.hpp"
#include "support/resumable.hpp"
#include "support/stack_probe.hpp"

#include <gtest/gtest.h>

#include <algorithm>
#include <cstdint>
#include <memory>
#include <stdexcept>
#include <stop_token>
#include <string>
#include <type_traits>

namespace {

using scopekit::sync_wait;
using scopekit::task;

static_assert(!std::is_copy_constructible_v<task<int>>, "a task is move-only");
static_assert(!std::is_copy_assignable_v<task<int>>);
static_assert(std::is_nothrow_move_constructible_v<task<int>>);
static_assert(std::is_nothrow_move_assignable_v<task<int>>);
static_assert(std::is_same_v<scopekit::detail::await_result_t<task<int&>>, int&>);
static_assert(std::is_same_v<scopekit::detail::await_result_t<task<>>, void>);

task<int> forty_two() { co_return 42; }

TEST(Task, ReturnsValue) { EXPECT_EQ(sync_wait(forty_two()), 42); }

task<std::unique_ptr<int>> move_only_value() { co_return std::make_unique<int>(7); }

TEST(Task, ReturnsMoveOnlyValue) {
  std::unique_ptr<int> value = sync_wait(move_only_value());
  ASSERT_NE(value, nullptr);
  EXPECT_EQ(*value, 7);
}

int global_value = 0;
task<int&> reference_to_global() { co_return global_value; }

TEST(Task, ReturnsReferenceNotCopy) {
  int& ref = sync_wait(reference_to_global());
  EXPECT_EQ(&ref, &global_value);
}

task<> set_flag(bool& flag) {
  flag = true;
  co_return;
}

TEST(Task, IsLazyUntilAwaited) {
  bool ran = false;
  task<> t = set_flag(ran);
  EXPECT_FALSE(ran);  // creating the task runs nothing
  sync_wait(std::move(t));
  EXPECT_TRUE(ran);
}

struct test_error : std::runtime_error {
  using std::runtime_error::runtime_error;
};

task<int> throws_after_start() {
  co_await forty_two();
  throw test_error("from the task");
}

TEST(Task, ExceptionPropagatesWithItsType) {
  EXPECT_THROW(sync_wait(throws_after_start()), test_error);
}

task<std::string> nested_rethrow() {
  try {
    co_await throws_after_start();
  } catch (const test_error& e) {
    co_return std::string("caught: ") + e.what();
  }
  co_return "not thrown";
}

TEST(Task, AwaiterCatchesChildException) {
  EXPECT_EQ(sync_wait(nested_rethrow()), "caught: from the task");
}

/// Counts live instances, to prove a frame (and what it holds) is destroyed.
struct frame_witness {
  static inline int live = 0;
  frame_witness() noexcept { ++live; }
  frame_witness(const frame_witness&) noexcept { ++live; }
  frame_witness& operator=(const frame_witness&) = default;
  ~frame_witness() { --live; }
};

task<> holds_witness(frame_witness) { co_return; }

TEST(Task, DestroyingUnstartedTaskDestroysFrame) {
  {
    task<> t = holds_witness(frame_witness{});
    EXPECT_EQ(frame_witness::live, 1);  // the parameter copy lives in the frame
  }
  EXPECT_EQ(frame_witness::live, 0);
}

TEST(Task, MoveAssignmentDestroysPreviousFrame) {
  task<> t = holds_witness(frame_witness{});
  t = holds_witness(frame_witness{});
  EXPECT_EQ(frame_witness::live, 1);  // the first frame went with the assignment
  t = task<>{};
  EXPECT_EQ(frame_witness::live, 0);
  EXPECT_FALSE(t.valid());
}

// ---- Symmetric transfer ----------------------------------------------------------------------
task<std::uintptr_t> probe_stack() { co_return scopekit::test::stack_address(); }

task<std::uintptr_t> million_sequential_awaits() {
  std::uintptr_t low = UINTPTR_MAX;
  std::uintptr_t high = 0;
  for (int i = 0; i < 1'000'000; ++i) {
    const std::uintptr_t depth = co_await probe_stack();
    low = std::min(low, depth);
    high = std::max(high, depth);
  }
  co_return high - low;
}

TEST(Task, MillionSequentialAwaitsUseConstantStack) {
  // Without symmetric transfer each completed child would leave a frame on the stack.
  EXPECT_LT(sync_wait(million_sequential_awaits()), 4096U);
}

// ---- Context
// -------------------------------------------------------------------------------------
task<std::stop_token> child_token() { co_return co_await scopekit::current_stop_token(); }

task<bool> child_sees_parent_token() {
  std::stop_token mine = co_await scopekit::current_stop_token();
  std::stop_token childs = co_await child_token();
  co_return mine == childs && mine.stop_possible();
}

TEST(Task, StopTokenPropagatesToAwaitedTask) {
  std::stop_source source;
  EXPECT_TRUE(sync_wait(child_sees_parent_token(), source.get_token()));
}

TEST(Task, StopRequestIsVisibleInChild) {
  std::stop_source source;
  source.request_stop();
  EXPECT_TRUE(sync_wait(child_token(), source.get_token()).stop_requested());
}

task<scopekit::executor*> child_executor() { co_return co_await scopekit::current_executor(); }

task<bool> child_runs_on_parent_executor() {
  scopekit::executor* mine = co_await scopekit::current_executor();
  co_return mine != nullptr && mine == co_await child_executor();
}

TEST(Task, ExecutorPropagatesToAwaitedTask) {
  EXPECT_TRUE(sync_wait(child_runs_on_parent_executor()));
}

// ---- Awaitable from any coroutine --------------------------------------------------------------
scopekit::test::resumable foreign_caller(int& out) { out = co_await forty_two(); }

TEST(Task, AwaitableFromForeignCoroutineType) {
  int out = 0;
  scopekit::test::resumable co = foreign_caller(out);
  co.resume();  // runs to completion: the task completes synchronously
  EXPECT_TRUE(co.done());
  EXPECT_EQ(out, 42);
}

scopekit::test::resumable foreign_executor_probe(scopekit::executor*& out) {
  out = co_await child_executor();
}

TEST(Task, ForeignCoroutineGivesNoExecutor) {
  scopekit::run_loop some_loop;
  scopekit::executor* seen = &some_loop;  // anything but null
  scopekit::test::resumable co = foreign_executor_probe(seen);
  co.resume();
  EXPECT_EQ(seen, nullptr);  // a task awaited outside scopekit runs without an executor
}

}  // namespace
