// tests/support/resumable.hpp - the smallest coroutine type a test can drive by hand.
//
// A `resumable` coroutine starts suspended and runs only when resume() is called, on the
// calling thread, so a test decides exactly where (inside a destructor during unwinding, say)
// each part of the body runs. An exception escaping the body is kept and rethrown by resume().
#pragma once

#include <coroutine>
#include <exception>
#include <utility>

namespace scopekit::test {

class resumable {
public:
  struct promise_type {
    std::exception_ptr error;
    resumable get_return_object() noexcept {
      return resumable{std::coroutine_handle<promise_type>::from_promise(*this)};
    }
    std::suspend_always initial_suspend() noexcept { return {}; }
    std::suspend_always final_suspend() noexcept { return {}; }
    void return_void() noexcept {}
    void unhandled_exception() noexcept { error = std::current_exception(); }
  };

  resumable(resumable&& other) noexcept : handle_(std::exchange(other.handle_, {})) {}
  resumable(const resumable&) = delete;
  resumable& operator=(const resumable&) = delete;
  resumable& operator=(resumable&&) = delete;
  ~resumable() {
    if (handle_) {
      handle_.destroy();
    }
  }

  /// Runs the body up to its next suspension point or its end; rethrows what escaped it.
  void resume() {
    handle_.resume();
    if (auto error = std::exchange(handle_.promise().error, nullptr)) {
      std::rethrow_exception(error);
    }
  }

  [[nodiscard]] bool done() const noexcept { return handle_.done(); }

  /// The raw handle, for posting to an executor (exceptions are then not reported).
  [[nodiscard]] std::coroutine_handle<> handle() const noexcept { return handle_; }

private:
  explicit resumable(std::coroutine_handle<promise_type> handle) noexcept : handle_(handle) {}
  std::coroutine_handle<promise_type> handle_;
};

/// Calls a function from its destructor: a way to run code while an exception unwinds.
template <class F>
class call_on_destruction {
public:
  explicit call_on_destruction(F f) : f_(std::move(f)) {}
  call_on_destruction(const call_on_destruction&) = delete;
  call_on_destruction& operator=(const call_on_destruction&) = delete;
  ~call_on_destruction() { f_(); }

private:
  F f_;
};

}  // namespace scopekit::test
