// scopekit/detail/coroutine_context.hpp - the awaiter helpers (get_awaiter, await_result_t,
// result_slot), and the old detail names of the public context types (scopekit/context.hpp).
// Internal: no promises beyond what the public headers document.
#pragma once

#include "scopekit/context.hpp"
#include "scopekit/executor.hpp"

#include <coroutine>
#include <exception>
#include <stop_token>
#include <type_traits>
#include <utility>
#include <variant>

namespace scopekit::detail {

// The context types are public (scopekit/context.hpp); these names stay for existing code.
using coroutine_context = ::scopekit::coroutine_context;
template <class P>
concept context_promise = context_provider<P>;
using ::scopekit::context_of;

/// Obtains the awaiter for `co_await a` ([expr.await]/3.3, ignoring await_transform).
template <class A>
decltype(auto) get_awaiter(A&& a) {
  if constexpr (requires { static_cast<A&&>(a).operator co_await(); }) {
    return static_cast<A&&>(a).operator co_await();
  } else if constexpr (requires { operator co_await(static_cast<A&&>(a)); }) {
    return operator co_await(static_cast<A&&>(a));
  } else {
    return static_cast<A&&>(a);
  }
}

/// The type `co_await std::declval<A>()` produces.
template <class A>
using await_result_t = decltype(get_awaiter(std::declval<A>()).await_resume());

/// Where a coroutine keeps its outcome: nothing yet, a value, or an exception.
template <class T>
class result_slot {
public:
  template <class U>
  void return_value(U&& value) noexcept(std::is_nothrow_constructible_v<T, U>) {
    state_.template emplace<1>(std::forward<U>(value));
  }
  void unhandled_exception() noexcept { state_.template emplace<2>(std::current_exception()); }

  /// The value (moved out) or the exception (rethrown).
  T take() {
    if (state_.index() == 2) {
      std::rethrow_exception(std::get<2>(state_));
    }
    return std::move(std::get<1>(state_));
  }

private:
  std::variant<std::monostate, T, std::exception_ptr> state_;
};

template <class T>
class result_slot<T&> {
public:
  void return_value(T& value) noexcept { value_ = &value; }
  void unhandled_exception() noexcept { error_ = std::current_exception(); }
  T& take() {
    if (error_) {
      std::rethrow_exception(error_);
    }
    return *value_;
  }

private:
  T* value_ = nullptr;
  std::exception_ptr error_;
};

template <>
class result_slot<void> {
public:
  void return_void() noexcept {}
  void unhandled_exception() noexcept { error_ = std::current_exception(); }
  void take() {
    if (error_) {
      std::rethrow_exception(error_);
    }
  }

private:
  std::exception_ptr error_;
};

}  // namespace scopekit::detail
