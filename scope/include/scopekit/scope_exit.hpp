// scopekit/scope_exit.hpp - run a callable when the enclosing scope ends, however it ends.
//
// scope_exit calls its action once, from its destructor, unless release() was called. It
// follows P0052R10 / Library Fundamentals TS v3 [scope.scope_guard]. It never allocates; it
// stores the callable and one bool (an empty callable takes no room).
//
// Exceptions: the destructor is noexcept, so an action that throws terminates the program. If
// storing the callable throws (a copy that throws), the action is called at once and the
// exception propagates: the cleanup is never skipped.
//
//   int fd = ::open(path, O_RDONLY);
//   scopekit::scope_exit close_fd{[fd]() noexcept { ::close(fd); }};
//   parse(fd);  // close_fd runs on return and on exception alike
#pragma once

#include "scopekit/detail/scope_guard_common.hpp"

#include <type_traits>
#include <utility>

namespace scopekit {

/// Calls its action when destroyed, unless released. Not copyable, not assignable; movable
/// (the moved-from guard never runs).
template <exit_function EF>
class [[nodiscard]] scope_exit : private detail::guard_base<EF, detail::no_condition> {
  using base = detail::guard_base<EF, detail::no_condition>;

public:
  /// Stores `f` (moved in if that cannot throw, else copied). If storing it throws, calls
  /// `f()` and rethrows.
  template <class EFP>
    requires(!std::is_same_v<std::remove_cvref_t<EFP>, scope_exit> &&
             detail::guard_initializable<EF, EFP>)
  explicit scope_exit(EFP&& f) noexcept(detail::guard_init_nothrow<EF, EFP>)
  try : base(detail::guard_init_arg<EF, EFP>(f), detail::no_condition{}) {
  } catch (...) {
    f();
  }

  /// Takes over `other`'s action (moved if that cannot throw, else copied), then releases
  /// `other`. If the copy throws, `other` keeps its action and will still run it.
  scope_exit(scope_exit&&) = default;
  scope_exit(const scope_exit&) = delete;
  scope_exit& operator=(const scope_exit&) = delete;
  scope_exit& operator=(scope_exit&&) = delete;

  /// Calls the action unless released. An action that throws terminates.
  ~scope_exit() noexcept {
    if (this->active_) {
      this->function_();
    }
  }

  /// The action will not be called.
  void release() noexcept { this->active_ = false; }
};

template <class EF>
scope_exit(EF) -> scope_exit<EF>;

}  // namespace scopekit
