// scopekit/start_detached.hpp - start a task on an executor and get its result in a callback.
//
// start_detached(exec, work, on_done, stop) posts `work` to `exec` and returns at once. When
// `work` completes, `on_done` is called on the thread that completed it, with the task's
// exception (null if none) and, for task<T>, its value (empty if it threw). It is the building
// block for other frameworks' completion tokens and handlers. Nothing joins a detached task:
// keep the executor alive until on_done has run.
//
// Allocation: one block holding the task and the callback, freed after on_done returns. An
// on_done that throws terminates (it runs where nothing could catch it).
//
//   scopekit::start_detached(pool, count_rows(), [](std::exception_ptr e, std::optional<int> n) {
//     if (!e) std::printf("%d rows\n", *n);
//   });
#pragma once

#include "scopekit/context.hpp"
#include "scopekit/detail/start_on.hpp"
#include "scopekit/executor.hpp"
#include "scopekit/task.hpp"

#include <concepts>
#include <coroutine>
#include <exception>
#include <memory>
#include <optional>
#include <stop_token>
#include <type_traits>
#include <utility>

namespace scopekit {

namespace detail {
template <class F, class T>
inline constexpr bool detached_invocable = std::is_invocable_v<F&, std::exception_ptr, std::optional<T>>;
template <class F>
inline constexpr bool detached_invocable<F, void> = std::is_invocable_v<F&, std::exception_ptr>;
}  // namespace detail

/// A callback start_detached accepts for a task<T>: invocable with the error
/// (`std::exception_ptr`), and for T other than void also with `std::optional<T>`.
template <class F, class T>
concept detached_completion =
    std::is_object_v<F> && std::move_constructible<F> && detail::detached_invocable<F, T>;

/// Starts `work` on `exec` with `stop` as its stop token; calls `on_done` when it completes.
/// T is void or an object type. Throws std::invalid_argument for an empty task, std::bad_alloc
/// (nothing started).
template <class T, detached_completion<T> F>
  requires(std::is_void_v<T> || std::is_object_v<T>)
void start_detached(executor& exec, task<T> work, F on_done, std::stop_token stop = {}) {
  detail::require_valid(work, "scopekit::start_detached");
  struct detached {
    task<T> work;
    F on_done;
    static void complete(void* self, std::coroutine_handle<> /*done*/) noexcept {
      std::unique_ptr<detached> owner{static_cast<detached*>(self)};  // frees the frame too
      auto outcome = detail::take_outcome(owner->work);
      if constexpr (std::is_void_v<T>) {
        owner->on_done(std::move(outcome.error));
      } else {
        owner->on_done(std::move(outcome.error), std::move(outcome.value));
      }
    }
  };
  auto state = std::make_unique<detached>(detached{std::move(work), std::move(on_done)});
  detail::start_on(state->work, coroutine_context{&exec, std::move(stop)}, &detached::complete,
                   state.get());
  (void)state.release();  // complete() owns it now
}

}  // namespace scopekit
