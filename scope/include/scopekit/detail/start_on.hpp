// scopekit/detail/start_on.hpp - starts a task as a root on an executor, with a completion hook.
// Internal: the machinery of block_on, on and start_detached.
#pragma once

#include "scopekit/context.hpp"
#include "scopekit/executor.hpp"
#include "scopekit/task.hpp"

#include <coroutine>
#include <stdexcept>
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

template <class T>
void require_valid(const task<T>& work, const char* who) {
  if (!work.valid()) {
    throw std::invalid_argument(std::string{who} + ": empty task");
  }
}

}  // namespace scopekit::detail
