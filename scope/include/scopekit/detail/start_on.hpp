// scopekit/detail/start_on.hpp - starts a task as a root on an executor, with a completion hook.
// Internal: the machinery of block_on, on and start_detached.
#pragma once

#include "scopekit/context.hpp"
#include "scopekit/executor.hpp"
#include "scopekit/task.hpp"

#include <coroutine>
#include <exception>
#include <optional>
#include <stdexcept>
#include <string>
#include <type_traits>
#include <utility>

namespace scopekit::detail {

/// Posts `work` to `exec` to run in `context`; `hook(arg, handle)` is called on the thread that
/// completes it, with the frame still alive (the caller keeps owning it). Never fails.
template <class T>
void start_on(const task<T>& work, coroutine_context context,
              task_promise_base::completion_hook hook, void* arg) noexcept {
  auto handle = work.handle();
  executor* exec = context.exec;
  handle.promise().set_own_context(std::move(context));
  handle.promise().set_completion_hook(hook, arg);
  exec->post(handle);
}

/// What a completed task produced: its exception (null if none) and, unless T is void, its
/// value (empty if it threw).
template <class T>
struct task_outcome {
  std::exception_ptr error;
  std::optional<T> value;
};
template <>
struct task_outcome<void> {
  std::exception_ptr error;
};

/// Takes the outcome out of a completed task. Never throws: the task's exception is returned.
template <class T>
task_outcome<T> take_outcome(const task<T>& done) noexcept {
  task_outcome<T> outcome;
  try {
    if constexpr (std::is_void_v<T>) {
      done.handle().promise().take();
    } else {
      outcome.value.emplace(done.handle().promise().take());
    }
  } catch (...) {
    outcome.error = std::current_exception();
  }
  return outcome;
}

template <class T>
void require_valid(const task<T>& work, const char* who) {
  if (!work.valid()) {
    throw std::invalid_argument(std::string{who} + ": empty task");
  }
}

}  // namespace scopekit::detail
