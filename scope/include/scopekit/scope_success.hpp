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
class [[nodiscard]] scope_success : private detail::guard_base<EF, Cond> {
  using base = detail::guard_base<EF, Cond>;

public:
  /// Stores `f` (moved in if that cannot throw, else copied) and the condition. If storing
  /// `f` throws, the exception propagates and `f` is not called.
  template <class EFP>
    requires(!std::is_same_v<std::remove_cvref_t<EFP>, scope_success> &&
             detail::guard_initializable<EF, EFP>)
  explicit scope_success(EFP&& f, Cond condition = Cond{}) noexcept(
      detail::guard_init_nothrow<EF, EFP>)
      : base(detail::guard_init_arg<EF, EFP>(f), std::move(condition)) {}

  /// Takes over `other`'s action (moved if that cannot throw, else copied), then releases
  /// `other`. If the copy throws, `other` keeps its action and will still run it.
  scope_success(scope_success&&) = default;
  scope_success(const scope_success&) = delete;
  scope_success& operator=(const scope_success&) = delete;
  scope_success& operator=(scope_success&&) = delete;

  /// Calls the action if not released and the condition reports no failure. Lets the action's
  /// exception out when the action may throw.
  ~scope_success() noexcept(std::is_nothrow_invocable_v<EF&>) {
    if (this->active_ && !this->condition_()) {
      this->function_();
    }
  }

  /// The action will not be called.
  void release() noexcept { this->active_ = false; }
};

template <class EF>
scope_success(EF) -> scope_success<EF>;

template <class EF, class Cond>
scope_success(EF, Cond) -> scope_success<EF, Cond>;

}  // namespace scopekit
