// scopekit/detail/scope_guard_common.hpp - what scope_exit, scope_fail and scope_success share:
// the exit_function concept and the P0052R10 rules for initialising the stored function.
// Internal: no promises beyond what the public headers document.
#pragma once

#include <concepts>
#include <type_traits>

namespace scopekit {

/// What a scope guard can store and call at exit: a function object type, or an lvalue
/// reference to a function or to a function object, callable as an lvalue with no arguments
/// (P0052R10 [scope.scope_guard]/3).
template <class F>
concept exit_function =
    ((std::is_object_v<F> && std::is_destructible_v<F>) || std::is_lvalue_reference_v<F>) &&
    std::invocable<std::remove_reference_t<F>&>;

namespace detail {

/// The constructor's argument rule: move the argument in only if it is an rvalue and moving
/// cannot throw; otherwise copy it, so that the caller's callable is still intact (and can be
/// called) if the copy throws.
template <class F, class FP>
[[nodiscard]] constexpr decltype(auto) guard_init_arg(std::remove_reference_t<FP>& f) noexcept {
  if constexpr (!std::is_lvalue_reference_v<FP> && std::is_nothrow_constructible_v<F, FP>) {
    return static_cast<FP&&>(f);
  } else {
    return f;
  }
}

/// Requirement of the guards' converting constructors: the stored function can be built from
/// what guard_init_arg picks (so a move-only callable whose move may throw is rejected here,
/// in the signature, rather than deep inside the constructor).
template <class F, class FP>
concept guard_initializable =
    std::is_constructible_v<F, FP> &&
    ((!std::is_lvalue_reference_v<FP> && std::is_nothrow_constructible_v<F, FP>) ||
     std::is_constructible_v<F, std::remove_reference_t<FP>&>);

/// noexcept of the guards' converting constructors.
template <class F, class FP>
inline constexpr bool guard_init_nothrow =
    std::is_nothrow_constructible_v<F, FP> || std::is_nothrow_constructible_v<F, FP&>;

/// The move constructor's rule: move if that cannot throw, else copy, so that the source still
/// owns its action if the copy throws.
template <class F>
[[nodiscard]] constexpr decltype(auto) guard_move_arg(F& f) noexcept {
  if constexpr (std::is_nothrow_move_constructible_v<F>) {
    return static_cast<F&&>(f);
  } else {
    return static_cast<F&>(f);
  }
}

/// Requirement of the guards' move constructors.
template <class F>
concept guard_movable = std::is_nothrow_move_constructible_v<F> || std::is_copy_constructible_v<F>;

/// noexcept of the guards' move constructors.
template <class F>
inline constexpr bool guard_move_nothrow =
    std::is_nothrow_move_constructible_v<F> || std::is_nothrow_copy_constructible_v<F>;

/// The condition of a guard that always runs (scope_exit): never called, takes no room.
struct no_condition {};

/// What the three guards share: the stored action, the condition, the active flag, and the
/// P0052R10 move rules. Each guard adds its constructor (what happens if storing the action
/// throws) and its destructor (when the action runs).
template <class EF, class Cond>
class guard_base {
public:
  guard_base(const guard_base&) = delete;
  guard_base& operator=(const guard_base&) = delete;
  guard_base& operator=(guard_base&&) = delete;

protected:
  template <class Arg>
  guard_base(Arg&& action, Cond condition) noexcept(std::is_nothrow_constructible_v<EF, Arg>)
      : function_(static_cast<Arg&&>(action)), condition_(static_cast<Cond&&>(condition)) {}

  /// Moves if that cannot throw, else copies; releases `other` only once the copy succeeded.
  guard_base(guard_base&& other) noexcept(guard_move_nothrow<EF>)
    requires guard_movable<EF>
      : function_(guard_move_arg<EF>(other.function_)),
        condition_(static_cast<Cond&&>(other.condition_)),
        active_(other.active_) {
    other.active_ = false;
  }

  ~guard_base() = default;

  [[no_unique_address]] EF function_;
  [[no_unique_address]] Cond condition_;
  bool active_ = true;
};

}  // namespace detail
}  // namespace scopekit
