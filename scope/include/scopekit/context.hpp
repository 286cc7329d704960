// scopekit/context.hpp - what a scopekit coroutine inherits: its executor and its stop token.
//
// Every scopekit coroutine runs in a coroutine_context: the executor it resumes on and the stop
// token it observes. A task takes the context of the coroutine that awaits it, if that
// coroutine's promise is a context_provider; scopekit's own promises are. A coroutine type of
// your own (cppcoro-style) passes its context on to the scopekit tasks, sleeps, scopes and
// oneshots it awaits by modelling context_provider: a promise member
// `const scopekit::coroutine_context& context() const noexcept`. Nothing here allocates or
// locks; a context is two words (a pointer and a std::stop_token).
//
//   struct my_promise {                     // the promise of your own coroutine type
//     scopekit::coroutine_context ctx{&pool, stop.get_token()};
//     const scopekit::coroutine_context& context() const noexcept { return ctx; }
//     ...
//   };
//   static_assert(scopekit::context_provider<my_promise>);
#pragma once

#include "scopekit/executor.hpp"

#include <concepts>
#include <coroutine>
#include <stop_token>

namespace scopekit {

/// The ambient context of a running coroutine: where it resumes and what stop it observes.
/// An aggregate; `exec` may be null (a coroutine started outside any executor), `stop` may be
/// a token that can never be stopped.
struct coroutine_context {
  executor* exec = nullptr;
  std::stop_token stop;
};

/// A promise type that passes a context on to what its coroutine awaits: `p.context()` returns
/// a reference to a coroutine_context that stays valid while the coroutine runs. Model it in
/// a foreign coroutine type's promise to make scopekit awaitables see your executor and stop.
template <class P>
concept context_provider = requires(const P& p) {
  { p.context() } -> std::same_as<const coroutine_context&>;
};

/// The context of the coroutine `h`: its promise's if it is a context_provider, else an empty
/// one (no executor, a token that is never stopped). For awaitables of your own.
template <class P>
[[nodiscard]] const coroutine_context& context_of(std::coroutine_handle<P> h) noexcept {
  if constexpr (context_provider<P>) {
    return h.promise().context();
  } else {
    static const coroutine_context none{};
    return none;
  }
}

}  // namespace scopekit
