// scopekit/scope_success.hpp - run a callable only if the enclosing scope completes normally.
//
// scope_success follows P0052R10 / Library Fundamentals TS v3 [scope.scope_guard], extended as
// scope_fail is: the success test is a stored exit condition (scopekit/exit_condition.hpp),
// by default the TS rule (no more std::uncaught_exceptions() at exit than at construction),
// or an explicit outcome with outcome_checker, the reliable choice inside coroutines.
//
// Never allocates. Unlike the other guards, its action may throw: the destructor is
// noexcept(noexcept(action())), and an action only runs when no new exception is propagating.
// If storing the callable throws, the exception propagates and the action is never called.
//
//   scopekit::scope_success commit{[&] { journal.commit(); }};
//   journal.append(record);  // commit() runs only if this returns normally
#pragma once

#include "scopekit/detail/scope_guard_common.hpp"
#include "scopekit/exit_condition.hpp"

#include <type_traits>
#include <utility>

namespace scopekit {

/// Calls its action when destroyed if its exit condition reports no failure, unless released.
/// Not copyable, not assignable; movable (the moved-from guard never runs).
template <exit_function EF, exit_condition Cond = exception_checker>
class [[nodiscard]] scope_success {
public:
  /// Stores `f` (moved in if that cannot throw, else copied) and the condition. If storing
  /// `f` throws, the exception propagates and `f` is not called.
  template <class EFP>
    requires(!std::is_same_v<std::remove_cvref_t<EFP>, scope_success> &&
             detail::guard_initializable<EF, EFP>)
  explicit scope_success(EFP&& f, Cond condition = Cond{}) noexcept(
      detail::guard_init_nothrow<EF, EFP>)
      : function_(detail::guard_init_arg<EF, EFP>(f)), condition_(std::move(condition)) {}

  /// Takes over `other`'s action and condition, then releases `other`. If copying the action
  /// throws, `other` is unchanged.
  scope_success(scope_success&& other) noexcept(detail::guard_move_nothrow<EF>)
    requires detail::guard_movable<EF>
      : function_(detail::guard_move_arg<EF>(other.function_)),
        condition_(std::move(other.condition_)),
        active_(other.active_) {
    other.release();
  }

  scope_success(const scope_success&) = delete;
  scope_success& operator=(const scope_success&) = delete;
  scope_success& operator=(scope_success&&) = delete;

  /// Calls the action if not released and the condition reports no failure. Lets the action's
  /// exception out when the action may throw (no other exception is propagating then).
  ~scope_success() noexcept(std::is_nothrow_invocable_v<EF&>) {
    if (active_ && !condition_()) {
      function_();
    }
  }

  /// The action will not be called.
  void release() noexcept { active_ = false; }

private:
  [[no_unique_address]] EF function_;
  [[no_unique_address]] Cond condition_;
  bool active_ = true;
};

template <class EF>
scope_success(EF) -> scope_success<EF>;

template <class EF, class Cond>
scope_success(EF, Cond) -> scope_success<EF, Cond>;

}  // namespace scopekit
