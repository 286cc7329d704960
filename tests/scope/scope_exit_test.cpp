// Tests for scopekit/scope_exit.hpp against P0052R10 [scope.scope_guard].
#include "scopekit/scope_exit.hpp"

#include "support/callables.hpp"

#include <gtest/gtest.h>

#include <functional>
#include <stdexcept>
#include <string>
#include <type_traits>
#include <utility>

namespace {

using scopekit::scope_exit;
using namespace scopekit::test;

// A functor with no noexcept move, whose copy throws on demand: guards copy it when moved.
struct copy_throws_on_demand {
  copy_throws_on_demand() = default;
  copy_throws_on_demand(const copy_throws_on_demand&) {
    if (call_log::throw_on_copy) {
      throw copy_failed{};
    }
  }
  copy_throws_on_demand& operator=(const copy_throws_on_demand&) = delete;
  ~copy_throws_on_demand() = default;
  void operator()() const noexcept { ++call_log::calls; }
};

// ---- Type properties ------------------------------------------------------------------------
using lambda_guard = scope_exit<lambda_kind::function_type>;
static_assert(!std::is_copy_constructible_v<lambda_guard>, "copy construction is deleted");
static_assert(!std::is_copy_assignable_v<lambda_guard>, "copy assignment is deleted");
static_assert(!std::is_move_assignable_v<lambda_guard>, "move assignment is deleted");
static_assert(std::is_nothrow_move_constructible_v<lambda_guard>);
static_assert(std::is_nothrow_destructible_v<lambda_guard>, "the destructor is noexcept");
static_assert(std::is_nothrow_destructible_v<scope_exit<void (*)()>>,
              "noexcept even when the action is not");
static_assert(noexcept(std::declval<lambda_guard&>().release()));
// The converting constructor's noexcept follows the stored function's construction.
static_assert(std::is_nothrow_constructible_v<lambda_guard, lambda_kind::function_type>);
static_assert(!std::is_nothrow_constructible_v<scope_exit<throwing_copy_fn>, throwing_copy_fn&>,
              "an lvalue is copied, and this copy may throw");
static_assert(std::is_nothrow_constructible_v<scope_exit<throwing_copy_fn>, throwing_copy_fn>,
              "an rvalue is moved, and this move cannot throw");
// A move that may throw is replaced by a copy; a move-only functor with a throwing move
// cannot be stored at all.
static_assert(std::is_nothrow_move_constructible_v<scope_exit<throwing_move_fn>>);
static_assert(std::is_nothrow_move_constructible_v<scope_exit<throwing_copy_fn>>);
static_assert(!std::is_nothrow_move_constructible_v<scope_exit<copy_throws_on_demand>>,
              "no nothrow move and a copy that may throw");
// A move-only callable whose move may throw cannot be stored: there is no safe way in.
struct move_only_throwing_move {
  move_only_throwing_move() = default;
  move_only_throwing_move(move_only_throwing_move&&) noexcept(false) {}
  move_only_throwing_move(const move_only_throwing_move&) = delete;
  move_only_throwing_move& operator=(const move_only_throwing_move&) = delete;
  move_only_throwing_move& operator=(move_only_throwing_move&&) = delete;
  ~move_only_throwing_move() = default;
  void operator()() noexcept {}
};
static_assert(!std::is_constructible_v<scope_exit<move_only_throwing_move>,
                                       move_only_throwing_move>);
// A guard never takes room for an empty callable beyond its flag.
static_assert(sizeof(lambda_guard) == sizeof(bool));
// CTAD decays: functions become function pointers, closures keep their type.
static_assert(std::is_same_v<decltype(scope_exit{count_call}), scope_exit<void (*)() noexcept>>);
static_assert(std::is_same_v<decltype(scope_exit{lambda_kind::make()}), lambda_guard>);
// Only callables with no arguments are exit functions.
static_assert(!scopekit::exit_function<void (*)(int)>);
static_assert(!scopekit::exit_function<int>);
static_assert(scopekit::exit_function<void (&)()>);

// ---- Behaviour across callable kinds ---------------------------------------------------------
template <class Kind>
class ScopeExitKinds : public ::testing::Test {
protected:
  void SetUp() override { call_log::reset(); }
  using guard = scope_exit<typename Kind::function_type>;
};

using kinds = ::testing::Types<lambda_kind, function_pointer_kind, function_reference_kind,
                               move_only_kind, throwing_copy_kind, throwing_move_kind,
                               std_function_kind>;
TYPED_TEST_SUITE(ScopeExitKinds, kinds);

TYPED_TEST(ScopeExitKinds, RunsOnceAtScopeEnd) {
  {
    typename TestFixture::guard g{TypeParam::make()};
    EXPECT_EQ(call_log::calls, 0);  // nothing runs before the scope ends
  }
  EXPECT_EQ(call_log::calls, 1);
}

TYPED_TEST(ScopeExitKinds, RunsWhenLeftByException) {
  try {
    typename TestFixture::guard g{TypeParam::make()};
    throw std::runtime_error("leave");
  } catch (const std::runtime_error&) {
  }
  EXPECT_EQ(call_log::calls, 1);
}

TYPED_TEST(ScopeExitKinds, ReleasePreventsRun) {
  {
    typename TestFixture::guard g{TypeParam::make()};
    g.release();
    g.release();  // idempotent
  }
  EXPECT_EQ(call_log::calls, 0);
}

TYPED_TEST(ScopeExitKinds, MovedFromGuardNeverRuns) {
  {
    typename TestFixture::guard source{TypeParam::make()};
    {
      typename TestFixture::guard target{std::move(source)};
    }
    EXPECT_EQ(call_log::calls, 1);  // the new guard ran at its own scope end
  }
  EXPECT_EQ(call_log::calls, 1);  // the moved-from guard did not run again
}

TYPED_TEST(ScopeExitKinds, MoveOfReleasedGuardStaysReleased) {
  {
    typename TestFixture::guard source{TypeParam::make()};
    source.release();
    typename TestFixture::guard target{std::move(source)};
  }
  EXPECT_EQ(call_log::calls, 0);
}

// ---- The construction rules ------------------------------------------------------------------
class ScopeExit : public ::testing::Test {
protected:
  void SetUp() override { call_log::reset(); }
};

TEST_F(ScopeExit, MovesRvalueWhenMoveCannotThrow) {
  {
    scope_exit g{throwing_copy_fn{}};
    EXPECT_EQ(call_log::moves, 1);
    EXPECT_EQ(call_log::copies, 0);
  }
  EXPECT_EQ(call_log::calls, 1);
}

TEST_F(ScopeExit, CopiesLvalueArgument) {
  throwing_copy_fn f;
  {
    scope_exit g{f};
    EXPECT_EQ(call_log::copies, 1);  // an lvalue argument is never moved from
    EXPECT_EQ(call_log::moves, 0);
  }
  EXPECT_EQ(call_log::calls, 1);
}

TEST_F(ScopeExit, CopiesRvalueWhenMoveMayThrow) {
  {
    scope_exit g{throwing_move_fn{}};
    EXPECT_EQ(call_log::copies, 1);
    EXPECT_EQ(call_log::moves, 0);  // a move that may throw is never used
  }
  EXPECT_EQ(call_log::calls, 1);
}

TEST_F(ScopeExit, CallsFunctionWhenConstructionThrows) {
  throwing_copy_fn f;
  call_log::throw_on_copy = true;
  EXPECT_THROW({ scope_exit g{f}; }, copy_failed);
  EXPECT_EQ(call_log::calls, 1);  // the cleanup ran although the guard was never built
}

TEST_F(ScopeExit, MoveConstructionCopiesWhenMoveMayThrow) {
  scope_exit source{throwing_move_fn{}};
  call_log::reset();
  {
    scope_exit target{std::move(source)};
    EXPECT_EQ(call_log::copies, 1);
    EXPECT_EQ(call_log::moves, 0);
  }
  EXPECT_EQ(call_log::calls, 1);
}

TEST_F(ScopeExit, FailedMoveConstructionLeavesSourceArmed) {
  {
    scope_exit source{copy_throws_on_demand{}};
    call_log::throw_on_copy = true;
    EXPECT_THROW({ scope_exit target{std::move(source)}; }, copy_failed);
    EXPECT_EQ(call_log::calls, 0);  // neither guard has run yet
    call_log::throw_on_copy = false;
  }
  EXPECT_EQ(call_log::calls, 1);  // the source was not released: it still ran, once
}

TEST_F(ScopeExit, StoresReferenceToFunctionObject) {
  int calls = 0;
  auto counter = [&calls] { ++calls; };
  {
    scope_exit<decltype(counter)&> g{counter};
  }
  EXPECT_EQ(calls, 1);
}

TEST_F(ScopeExit, RunsInReverseOrderOfConstruction) {
  std::string order;
  {
    scope_exit first{[&] { order += '1'; }};
    scope_exit second{[&] { order += '2'; }};
  }
  EXPECT_EQ(order, "21");  // ordinary destruction order: last built, first run
}

// ---- Terminate paths -------------------------------------------------------------------------
TEST(ScopeExitDeathTest, ThrowingActionTerminates) {
  GTEST_FLAG_SET(death_test_style, "threadsafe");
  EXPECT_DEATH(
      {
        scope_exit g{[] { throw std::runtime_error("cleanup failed"); }};
      },
      "");
}

}  // namespace
