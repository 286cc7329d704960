// Tests for scopekit/scope_success.hpp against P0052R10 [scope.scope_guard], plus the exit
// condition extension.
#include "scopekit/scope_success.hpp"

#include "support/callables.hpp"
#include "support/resumable.hpp"

#include <gtest/gtest.h>

#include <coroutine>
#include <stdexcept>
#include <type_traits>
#include <utility>

namespace {

using scopekit::outcome;
using scopekit::outcome_checker;
using scopekit::scope_success;
using namespace scopekit::test;

// ---- Type properties ------------------------------------------------------------------------
void cannot_throw() noexcept { ++call_log::calls; }

using lambda_guard = scope_success<lambda_kind::function_type>;
static_assert(!std::is_copy_constructible_v<lambda_guard>, "copy construction is deleted");
static_assert(!std::is_copy_assignable_v<lambda_guard>, "copy assignment is deleted");
static_assert(!std::is_move_assignable_v<lambda_guard>, "move assignment is deleted");
static_assert(std::is_nothrow_move_constructible_v<scope_success<move_only_fn>>);
static_assert(!std::is_nothrow_move_constructible_v<lambda_guard>,
              "nothrow move includes the destructor, which may throw here");
// The destructor is noexcept exactly when calling the action is (GCC PR 114152 tested a member
// access instead of the call and made it always noexcept).
static_assert(!std::is_nothrow_destructible_v<scope_success<void (*)()>>);
static_assert(std::is_nothrow_destructible_v<scope_success<void (*)() noexcept>>);
static_assert(!std::is_nothrow_destructible_v<scope_success<void (&)()>>);
static_assert(!std::is_nothrow_destructible_v<lambda_guard>,
              "a lambda not marked noexcept may throw");
static_assert(std::is_nothrow_destructible_v<scope_success<move_only_fn>>);
static_assert(std::is_same_v<decltype(scope_success{std::declval<void (*)()>()}),
                             scope_success<void (*)()>>);

// ---- Behaviour across callable kinds ---------------------------------------------------------
template <class Kind>
class ScopeSuccessKinds : public ::testing::Test {
protected:
  void SetUp() override { call_log::reset(); }
  using guard = scope_success<typename Kind::function_type>;
};

using kinds = ::testing::Types<lambda_kind, function_pointer_kind, function_reference_kind,
                               move_only_kind, throwing_copy_kind, throwing_move_kind,
                               std_function_kind>;
TYPED_TEST_SUITE(ScopeSuccessKinds, kinds);

TYPED_TEST(ScopeSuccessKinds, RunsOnceOnNormalExit) {
  {
    typename TestFixture::guard g{TypeParam::make()};
  }
  EXPECT_EQ(call_log::calls, 1);
}

TYPED_TEST(ScopeSuccessKinds, SkippedWhenLeftByException) {
  try {
    typename TestFixture::guard g{TypeParam::make()};
    throw std::runtime_error("fail");
  } catch (const std::runtime_error&) {
  }
  EXPECT_EQ(call_log::calls, 0);
}

TYPED_TEST(ScopeSuccessKinds, ReleasePreventsRun) {
  {
    typename TestFixture::guard g{TypeParam::make()};
    g.release();
  }
  EXPECT_EQ(call_log::calls, 0);
}

TYPED_TEST(ScopeSuccessKinds, MovedFromGuardNeverRuns) {
  {
    typename TestFixture::guard source{TypeParam::make()};
    typename TestFixture::guard target{std::move(source)};
  }
  EXPECT_EQ(call_log::calls, 1);  // only the target ran
}

TYPED_TEST(ScopeSuccessKinds, MoveOfReleasedGuardStaysReleased) {
  {
    typename TestFixture::guard source{TypeParam::make()};
    source.release();
    typename TestFixture::guard target{std::move(source)};
  }
  EXPECT_EQ(call_log::calls, 0);
}

// ---- The TS rules ----------------------------------------------------------------------------
class ScopeSuccess : public ::testing::Test {
protected:
  void SetUp() override { call_log::reset(); }
};

TEST_F(ScopeSuccess, ConstructionFailureDoesNotCallFunction) {
  throwing_copy_fn f;
  call_log::throw_on_copy = true;
  EXPECT_THROW({ scope_success g{f}; }, copy_failed);
  EXPECT_EQ(call_log::calls, 0);  // unlike scope_exit and scope_fail
}

TEST_F(ScopeSuccess, CopiesRvalueWhenMoveMayThrow) {
  {
    scope_success g{throwing_move_fn{}};
    EXPECT_EQ(call_log::copies, 1);
    EXPECT_EQ(call_log::moves, 0);
  }
  EXPECT_EQ(call_log::calls, 1);
}

TEST_F(ScopeSuccess, ActionExceptionLeavesDestructor) {
  EXPECT_THROW(
      {
        scope_success g{[] { throw std::runtime_error("commit failed"); }};
      },
      std::runtime_error);
}

TEST_F(ScopeSuccess, RunsWhenBuiltAndDestroyedDuringUnwinding) {
  try {
    call_on_destruction during_unwinding{[] { scope_success g{cannot_throw}; }};
    throw std::runtime_error("outer");
  } catch (const std::runtime_error&) {
  }
  EXPECT_EQ(call_log::calls, 1);  // the inner scope succeeded; comparing with zero would skip it
}

TEST_F(ScopeSuccess, OutcomeCheckerRunsOnlyOnSuccess) {
  for (auto [result, expected] : {std::pair{outcome::running, 0}, std::pair{outcome::success, 1},
                                  std::pair{outcome::failure, 0}, std::pair{outcome::stopped, 0}}) {
    call_log::reset();
    {
      scope_success g{cannot_throw, outcome_checker{result}};
    }
    EXPECT_EQ(call_log::calls, expected) << "outcome " << static_cast<int>(result);
  }
}

resumable commit_at_end(int& commits_by_count, int& commits_by_outcome) {
  outcome result = outcome::running;
  scope_success by_count{[&commits_by_count]() noexcept { ++commits_by_count; }};
  scope_success by_outcome{[&commits_by_outcome]() noexcept { ++commits_by_outcome; },
                           outcome_checker{result}};
  co_await std::suspend_always{};
  result = outcome::success;
}

TEST_F(ScopeSuccess, CoroutineResumedDuringUnwindingStillCommits) {
  int commits_by_count = 0;
  int commits_by_outcome = 0;
  resumable co = commit_at_end(commits_by_count, commits_by_outcome);
  co.resume();
  try {
    call_on_destruction resume_while_unwinding{[&] { co.resume(); }};
    throw std::runtime_error("someone else's exception");
  } catch (const std::runtime_error&) {
  }
  ASSERT_TRUE(co.done());
  EXPECT_EQ(commits_by_outcome, 1);  // the coroutine succeeded and committed
  EXPECT_EQ(commits_by_count, 0);    // the trap: the TS rule took the foreign exception for ours
}

}  // namespace
