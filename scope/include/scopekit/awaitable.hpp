// scopekit/awaitable.hpp - what `co_await` accepts in a scopekit coroutine, as a concept.
//
// awaitable<A> holds for a type whose awaiter (from operator co_await, member or free, or the
// object itself) has await_ready, await_suspend and await_resume; await_result_t<A> is what
// `co_await` of an A produces. async_scope::spawn and enter, and async_exit_stack::enter and
// push, take any awaitable. Compile-time only: no code, no allocation.
//
//   static_assert(scopekit::awaitable<scopekit::task<int>>);
//   static_assert(std::is_same_v<scopekit::await_result_t<scopekit::task<int>>, int>);
#pragma once

#include "scopekit/detail/coroutine_context.hpp"

#include <utility>

namespace scopekit {

/// A type that can be co_awaited in a scopekit coroutine (which has no await_transform).
template <class A>
concept awaitable = requires(A&& a) { detail::get_awaiter(std::forward<A>(a)).await_ready(); };

/// The type `co_await std::declval<A>()` produces.
template <awaitable A>
using await_result_t = detail::await_result_t<A>;

}  // namespace scopekit
