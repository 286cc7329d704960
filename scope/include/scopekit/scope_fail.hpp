// scopekit/scope_fail.hpp - run a callable only if the enclosing scope is left by a failure.
//
// scope_fail follows P0052R10 / Library Fundamentals TS v3 [scope.scope_guard], with one
// extension in the manner of Boost.Scope: the test "did the scope fail?" is a stored exit
// condition (scopekit/exit_condition.hpp). The default, exception_checker, is the TS rule
// (more std::uncaught_exceptions() at exit than at construction). outcome_checker reads an
// outcome the code records itself, which is the only reliable test inside coroutines.
//
// Never allocates. The destructor is noexcept: an action that throws terminates. If storing the
// callable throws, the action is called at once and the exception propagates.
//
//   scopekit::scope_fail undo{[&]() noexcept { index.erase(key); }};
//   index.insert(key);
//   store.write(key, value);  // if this throws, the insertion is undone
//
// In a coroutine, use an explicit outcome: see the trap described in exit_condition.hpp.
#pragma once

#include "scopekit/detail/scope_guard_common.hpp"
#include "scopekit/exit_condition.hpp"

#include <type_traits>
#include <utility>

namespace scopekit {

/// Calls its action when destroyed if its exit condition reports failure, unless released.
/// Not copyable, not assignable; movable (the moved-from guard never runs).
template <exit_function EF, exit_condition Cond = exception_checker>
class [[nodiscard]] scope_fail : private detail::guard_base<EF, Cond> {
  using base = detail::guard_base<EF, Cond>;

public:
  /// Stores `f` (moved in if that cannot throw, else copied) and the condition. If storing
  /// `f` throws, calls `f()` and rethrows: failing to build the guard is itself a failure.
  template <class EFP>
    requires(!std::is_same_v<std::remove_cvref_t<EFP>, scope_fail> &&
             detail::guard_initializable<EF, EFP>)
  explicit scope_fail(EFP&& f, Cond condition = Cond{}) noexcept(
      detail::guard_init_nothrow<EF, EFP>)
  try : base(detail::guard_init_arg<EF, EFP>(f), std::move(condition)) {
  } catch (...) {
    f();
  }

  /// Takes over `other`'s action (moved if that cannot throw, else copied), then releases
  /// `other`. If the copy throws, `other` keeps its action and will still run it.
  scope_fail(scope_fail&&) = default;
  scope_fail(const scope_fail&) = delete;
  scope_fail& operator=(const scope_fail&) = delete;
  scope_fail& operator=(scope_fail&&) = delete;

  /// Calls the action if not released and the condition reports failure. An action that throws
  /// terminates.
  ~scope_fail() noexcept {
    if (this->active_ && this->condition_()) {
      this->function_();
    }
  }

  /// The action will not be called.
  void release() noexcept { this->active_ = false; }
};

template <class EF>
scope_fail(EF) -> scope_fail<EF>;

template <class EF, class Cond>
scope_fail(EF, Cond) -> scope_fail<EF, Cond>;

}  // namespace scopekit
