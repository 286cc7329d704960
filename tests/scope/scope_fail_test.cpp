// Tests for scopekit/scope_fail.hpp against P0052R10 [scope.scope_guard], plus the exit
// condition extension and the coroutine trap it exists for.
#include "scopekit/scope_fail.hpp"

#include "support/callables.hpp"
#include "support/resumable.hpp"

#include <gtest/gtest.h>

#include <coroutine>
#include <stdexcept>
#include <type_traits>
#include <utility>

namespace {

using scopekit::exception_checker;
using scopekit::outcome;
using scopekit::outcome_checker;
using scopekit::scope_fail;
using namespace scopekit::test;

// ---- Type properties ------------------------------------------------------------------------
using lambda_guard = scope_fail<lambda_kind::function_type>;
static_assert(!std::is_copy_constructible_v<lambda_guard>, "copy construction is deleted");
static_assert(!std::is_copy_assignable_v<lambda_guard>, "copy assignment is deleted");
static_assert(!std::is_move_assignable_v<lambda_guard>, "move assignment is deleted");
static_assert(std::is_nothrow_move_constructible_v<lambda_guard>);
static_assert(std::is_nothrow_destructible_v<scope_fail<void (*)()>>,
              "the destructor is noexcept even when the action is not");
static_assert(!std::is_nothrow_constructible_v<scope_fail<throwing_copy_fn>, throwing_copy_fn&>);
static_assert(std::is_nothrow_constructible_v<scope_fail<throwing_copy_fn>, throwing_copy_fn>);
static_assert(std::is_same_v<decltype(scope_fail{count_call, std::declval<outcome_checker>()}),
                             scope_fail<void (*)() noexcept, outcome_checker>>,
              "CTAD keeps the condition type");
static_assert(std::is_same_v<decltype(scope_fail{count_call}),
                             scope_fail<void (*)() noexcept, exception_checker>>,
              "the default condition is the TS rule");

// ---- Behaviour across callable kinds ---------------------------------------------------------
template <class Kind>
class ScopeFailKinds : public ::testing::Test {
protected:
  void SetUp() override { call_log::reset(); }
  using guard = scope_fail<typename Kind::function_type>;
};

using kinds = ::testing::Types<lambda_kind, function_pointer_kind, function_reference_kind,
                               move_only_kind, throwing_copy_kind, throwing_move_kind,
                               std_function_kind>;
TYPED_TEST_SUITE(ScopeFailKinds, kinds);

TYPED_TEST(ScopeFailKinds, SkippedOnNormalExit) {
  {
    typename TestFixture::guard g{TypeParam::make()};
  }
  EXPECT_EQ(call_log::calls, 0);
}

TYPED_TEST(ScopeFailKinds, RunsOnceWhenLeftByException) {
  try {
    typename TestFixture::guard g{TypeParam::make()};
    throw std::runtime_error("fail");
  } catch (const std::runtime_error&) {
  }
  EXPECT_EQ(call_log::calls, 1);
}

TYPED_TEST(ScopeFailKinds, ReleasePreventsRun) {
  try {
    typename TestFixture::guard g{TypeParam::make()};
    g.release();
    throw std::runtime_error("fail");
  } catch (const std::runtime_error&) {
  }
  EXPECT_EQ(call_log::calls, 0);
}

TYPED_TEST(ScopeFailKinds, MovedFromGuardNeverRuns) {
  try {
    typename TestFixture::guard source{TypeParam::make()};
    typename TestFixture::guard target{std::move(source)};
    throw std::runtime_error("fail");
  } catch (const std::runtime_error&) {
  }
  EXPECT_EQ(call_log::calls, 1);  // only the target ran
}

TYPED_TEST(ScopeFailKinds, MoveOfReleasedGuardStaysReleased) {
  try {
    typename TestFixture::guard source{TypeParam::make()};
    source.release();
    typename TestFixture::guard target{std::move(source)};
    throw std::runtime_error("fail");
  } catch (const std::runtime_error&) {
  }
  EXPECT_EQ(call_log::calls, 0);
}

// ---- The TS rules ----------------------------------------------------------------------------
class ScopeFail : public ::testing::Test {
protected:
  void SetUp() override { call_log::reset(); }
};

TEST_F(ScopeFail, CallsFunctionWhenConstructionThrows) {
  throwing_copy_fn f;
  call_log::throw_on_copy = true;
  EXPECT_THROW({ scope_fail g{f}; }, copy_failed);
  EXPECT_EQ(call_log::calls, 1);  // failing to build the guard is a failure of the scope
}

TEST_F(ScopeFail, CopiesRvalueWhenMoveMayThrow) {
  scope_fail g{throwing_move_fn{}};
  EXPECT_EQ(call_log::copies, 1);
  EXPECT_EQ(call_log::moves, 0);
}

TEST_F(ScopeFail, ComparesWithCountAtConstructionNotZero) {
  try {
    call_on_destruction during_unwinding{[] {
      // One exception is in flight here, but not because of this inner scope.
      scope_fail g{count_call};
    }};
    throw std::runtime_error("outer");
  } catch (const std::runtime_error&) {
  }
  EXPECT_EQ(call_log::calls, 0);  // comparing with zero would have fired
}

TEST_F(ScopeFail, FiresForNewExceptionDuringUnwinding) {
  try {
    call_on_destruction during_unwinding{[] {
      try {
        scope_fail g{count_call};
        throw std::logic_error("inner");
      } catch (const std::logic_error&) {
      }
    }};
    throw std::runtime_error("outer");
  } catch (const std::runtime_error&) {
  }
  EXPECT_EQ(call_log::calls, 1);  // two in flight at exit, one at construction
}

TEST_F(ScopeFail, MoveKeepsCountTakenAtConstruction) {
  scope_fail source{count_call};  // built with no exception in flight
  try {
    call_on_destruction during_unwinding{[&] {
      scope_fail moved{std::move(source)};  // destroyed with one exception in flight
    }};
    throw std::runtime_error("outer");
  } catch (const std::runtime_error&) {
  }
  EXPECT_EQ(call_log::calls, 1);  // judged against the scope it was built in
}

// ---- Explicit outcomes -----------------------------------------------------------------------
TEST_F(ScopeFail, OutcomeCheckerRunsUnlessSuccess) {
  for (auto [result, expected] : {std::pair{outcome::running, 1}, std::pair{outcome::success, 0},
                                  std::pair{outcome::failure, 1}, std::pair{outcome::stopped, 1}}) {
    call_log::reset();
    {
      scope_fail g{count_call, outcome_checker{result}};
    }
    EXPECT_EQ(call_log::calls, expected) << "outcome " << static_cast<int>(result);
  }
}

TEST_F(ScopeFail, OutcomeCheckerIgnoresExceptionsInFlight) {
  outcome result = outcome::success;
  try {
    scope_fail g{count_call, outcome_checker{result}};
    throw std::runtime_error("after the outcome was recorded");
  } catch (const std::runtime_error&) {
  }
  EXPECT_EQ(call_log::calls, 0);  // the recorded outcome decides, not the exception count
}

// ---- The coroutine trap ----------------------------------------------------------------------
// Both guards live in the coroutine frame; `fired_by_count` uses the TS rule,
// `fired_by_outcome` an explicit outcome set at the end of the body.
struct trap_counters {
  int fired_by_count = 0;
  int fired_by_outcome = 0;
};

resumable guarded_body(trap_counters& counters, bool throw_after_resume) {
  outcome result = outcome::running;
  scope_fail by_count{[&counters]() noexcept { ++counters.fired_by_count; }};
  scope_fail by_outcome{[&counters]() noexcept { ++counters.fired_by_outcome; },
                        outcome_checker{result}};
  co_await std::suspend_always{};
  if (throw_after_resume) {
    throw std::runtime_error("the coroutine's own failure");
  }
  result = outcome::success;
}

TEST_F(ScopeFail, CoroutineResumedDuringUnwindingDoesNotFireOutcomeGuard) {
  trap_counters counters;
  resumable co = guarded_body(counters, /*throw_after_resume=*/false);
  co.resume();  // builds both guards with no exception in flight, then suspends
  try {
    call_on_destruction resume_while_unwinding{[&] { co.resume(); }};
    throw std::runtime_error("someone else's exception");
  } catch (const std::runtime_error&) {
  }
  ASSERT_TRUE(co.done());
  EXPECT_EQ(counters.fired_by_outcome, 0);  // the coroutine completed normally
  EXPECT_EQ(counters.fired_by_count, 1);    // the trap: the TS rule saw the foreign exception
}

TEST_F(ScopeFail, CoroutineBuiltDuringUnwindingStillSeesItsOwnFailure) {
  trap_counters counters;
  resumable co = guarded_body(counters, /*throw_after_resume=*/true);
  try {
    call_on_destruction start_while_unwinding{[&] { co.resume(); }};  // guards built here
    throw std::runtime_error("someone else's exception");
  } catch (const std::runtime_error&) {
  }
  EXPECT_THROW(co.resume(), std::runtime_error);  // the body fails, no other exception around
  EXPECT_EQ(counters.fired_by_outcome, 1);        // the failure is seen
  EXPECT_EQ(counters.fired_by_count, 0);          // the trap: the TS rule missed it
}

// ---- Terminate paths -------------------------------------------------------------------------
TEST(ScopeFailDeathTest, ThrowingActionTerminates) {
  GTEST_FLAG_SET(death_test_style, "threadsafe");
  EXPECT_DEATH(
      {
        try {
          scope_fail g{[] { throw std::logic_error("rollback failed"); }};
          throw std::runtime_error("fail");
        } catch (...) {
        }
      },
      "");
}

}  // namespace
