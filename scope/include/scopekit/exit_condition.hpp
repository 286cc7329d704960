// scopekit/exit_condition.hpp - what scope_fail and scope_success ask at exit: "did it fail?"
//
// An exit condition is a small object, stored in the guard, that the guard calls from its
// destructor to decide whether the scope failed. Two are provided:
//
// - exception_checker (the default) is the rule of P0052R10 [scope.scope_guard]: the scope
//   failed if std::uncaught_exceptions() is greater than it was when the guard was built.
// - outcome_checker reads an explicit outcome that the code itself records. Use it in
//   coroutines: a coroutine frame outlives the stack it was resumed on, so counting the
//   exceptions in flight on the current thread says nothing about the coroutine's own body.
//
//   scopekit::outcome result = scopekit::outcome::running;
//   scopekit::scope_fail rollback{[&]() noexcept { tx.rollback(); },
//                                 scopekit::outcome_checker{result}};
//   co_await tx.write(rows);
//   result = scopekit::outcome::success;  // anything else at exit counts as a failure
//
// The coroutine trap, measured on every uncaught_exceptions-based guard (Boost.Scope,
// libstdc++'s experimental scope): a coroutine resumed from a destructor that runs during stack
// unwinding sees one exception "in flight" that is not its own, so an exception_checker guard
// fires although the coroutine completes normally; a coroutine whose guards were built during
// unwinding and that throws later misses its own failure. tests/scope/scope_fail_test.cpp shows
// both.
//
// Checkers never allocate, never throw and are cheap to copy.
#pragma once

#include <concepts>
#include <exception>
#include <type_traits>

namespace scopekit {

/// A nullary predicate a guard asks at exit: true means "the scope failed".
/// It is called from the guard's destructor, so it must not throw; it is moved along with the
/// guard, so its move must not throw either.
template <class C>
concept exit_condition = std::is_object_v<C> && std::is_nothrow_move_constructible_v<C> &&
                         std::is_nothrow_invocable_r_v<bool, C&>;

/// The P0052R10 rule: failure means more exceptions are in flight than at construction.
///
/// It compares with the count taken at construction, never with zero, so a guard built and
/// destroyed inside a destructor that runs during unwinding still sees success.
/// Not reliable across coroutine suspension points: see outcome_checker.
class exception_checker {
public:
  /// Records std::uncaught_exceptions() now.
  exception_checker() noexcept : uncaught_on_creation_(std::uncaught_exceptions()) {}

  /// True if an exception thrown since construction is propagating.
  [[nodiscard]] bool operator()() const noexcept {
    return std::uncaught_exceptions() > uncaught_on_creation_;
  }

private:
  int uncaught_on_creation_;
};

/// How a scope ended, recorded by the code that knows. async_scope reports the same values to
/// its cleanups.
enum class outcome : unsigned char {
  running,  ///< not finished; a guard that sees this at exit was left early or by an exception
  success,  ///< the body completed normally
  failure,  ///< the body or one of its children failed with an exception
  stopped,  ///< stop was requested and the body gave up
};

/// Reads an outcome variable at exit: the scope failed unless it says outcome::success.
///
/// `running` counts as failure on purpose: a body that did not get to record its success left
/// early, and an on-failure action (rollback) is the safe choice. The referenced variable must
/// outlive the guard.
class outcome_checker {
public:
  explicit outcome_checker(const outcome& result) noexcept : result_(&result) {}
  /// A temporary outcome would be gone by the time the guard asks: rejected.
  explicit outcome_checker(const outcome&&) = delete;

  [[nodiscard]] bool operator()() const noexcept { return *result_ != outcome::success; }

private:
  const outcome* result_;
};

}  // namespace scopekit
