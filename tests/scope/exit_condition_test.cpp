// Tests for scopekit/exit_condition.hpp: the checkers on their own.
#include "scopekit/exit_condition.hpp"

#include "support/resumable.hpp"

#include <gtest/gtest.h>

#include <stdexcept>
#include <type_traits>

namespace {

using scopekit::exception_checker;
using scopekit::exit_condition;
using scopekit::outcome;
using scopekit::outcome_checker;
using scopekit::test::call_on_destruction;

static_assert(exit_condition<exception_checker>);
static_assert(exit_condition<outcome_checker>);
static_assert(std::is_trivially_copyable_v<exception_checker>);
static_assert(std::is_trivially_copyable_v<outcome_checker>);
static_assert(!std::is_default_constructible_v<outcome_checker>,
              "an outcome checker must be told which outcome to read");
static_assert(!std::is_constructible_v<outcome_checker, outcome>,
              "a temporary outcome would dangle: rejected at compile time");
static_assert(std::is_constructible_v<outcome_checker, outcome&>);
// A predicate that may throw is not an exit condition: it is called from a destructor.
static_assert(!exit_condition<bool (*)()>);
static_assert(exit_condition<bool (*)() noexcept>);
static_assert(!exit_condition<int>);

TEST(ExceptionChecker, ReportsNoFailureWithoutException) {
  exception_checker failed;
  EXPECT_FALSE(failed());
}

TEST(ExceptionChecker, ReportsFailureWhileNewExceptionPropagates) {
  bool seen = false;
  try {
    exception_checker failed;
    call_on_destruction probe{[&] { seen = failed(); }};
    throw std::runtime_error("fail");
  } catch (const std::runtime_error&) {
  }
  EXPECT_TRUE(seen);
}

TEST(ExceptionChecker, IgnoresExceptionThatWasInFlightAtConstruction) {
  bool seen = true;
  try {
    call_on_destruction probe{[&] {
      exception_checker failed;
      seen = failed();
    }};
    throw std::runtime_error("outer");
  } catch (const std::runtime_error&) {
  }
  EXPECT_FALSE(seen);
}

TEST(OutcomeChecker, ReadsTheVariableAtCallTime) {
  outcome result = outcome::running;
  outcome_checker failed{result};
  EXPECT_TRUE(failed());  // running at exit means the body did not finish
  result = outcome::success;
  EXPECT_FALSE(failed());
  result = outcome::stopped;
  EXPECT_TRUE(failed());
  result = outcome::failure;
  EXPECT_TRUE(failed());
}

}  // namespace
