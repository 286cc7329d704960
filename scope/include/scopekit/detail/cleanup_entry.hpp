// scopekit/detail/cleanup_entry.hpp - one type-erased cleanup of an async_exit_stack.
// Internal: no promises beyond what the public headers document.
//
// A cleanup is a callable taking nothing or the error currently propagating
// (const std::exception_ptr&), and returning void, task<void>, or any other awaitable. Small
// callables that are nothrow-movable live inline in the entry (no allocation); others on the
// heap. Calling one that returns void needs no coroutine frame; one returning task<void>
// hands back that task; any other awaitable is wrapped in a task (one frame).
#pragma once

#include "scopekit/awaitable.hpp"
#include "scopekit/detail/coroutine_context.hpp"
#include "scopekit/task.hpp"

#include <array>
#include <concepts>
#include <cstddef>
#include <exception>
#include <memory>
#include <new>
#include <type_traits>
#include <utility>

namespace scopekit::detail {

template <class F>
concept takes_error = std::invocable<F&, const std::exception_ptr&>;

template <class F>
decltype(auto) call_cleanup(F& f, const std::exception_ptr& current) {
  if constexpr (takes_error<F>) {
    return f(current);
  } else {
    return f();
  }
}

template <class F>
using cleanup_result_t = decltype(call_cleanup(std::declval<F&>(),
                                               std::declval<const std::exception_ptr&>()));

/// The public concept (scopekit/awaitable.hpp), under its old name.
template <class A>
concept awaitable = ::scopekit::awaitable<A>;

template <class F>
concept cleanup_callable =
    std::is_object_v<F> && (std::invocable<F&> || takes_error<F>) &&
    (std::is_void_v<cleanup_result_t<F>> || awaitable<cleanup_result_t<F>>);

template <class A>
task<void> await_as_task(A awaitable) {
  co_await std::move(awaitable);
}

class cleanup_entry {
public:
  static constexpr std::size_t inline_size = 3 * sizeof(void*);

  cleanup_entry() noexcept = default;

  template <class F>
  explicit cleanup_entry(F&& f) {
    using stored = std::decay_t<F>;
    if constexpr (fits_inline<stored>) {
      ::new (static_cast<void*>(buffer_.data())) stored(std::forward<F>(f));
    } else {
      *reinterpret_cast<stored**>(buffer_.data()) = new stored(std::forward<F>(f));
    }
    ops_ = &ops_for<stored>;
  }

  cleanup_entry(cleanup_entry&& other) noexcept : ops_(std::exchange(other.ops_, nullptr)) {
    if (ops_ != nullptr) {
      ops_->relocate(other.buffer_.data(), buffer_.data());
    }
  }
  cleanup_entry& operator=(cleanup_entry&& other) noexcept {
    if (this != &other) {
      reset();
      ops_ = std::exchange(other.ops_, nullptr);
      if (ops_ != nullptr) {
        ops_->relocate(other.buffer_.data(), buffer_.data());
      }
    }
    return *this;
  }
  cleanup_entry(const cleanup_entry&) = delete;
  cleanup_entry& operator=(const cleanup_entry&) = delete;
  ~cleanup_entry() { reset(); }

  [[nodiscard]] bool empty() const noexcept { return ops_ == nullptr; }
  /// True if calling it returns nothing to await.
  [[nodiscard]] bool is_synchronous() const noexcept { return ops_->synchronous; }

  /// Calls a synchronous cleanup.
  void call(const std::exception_ptr& current) { ops_->call_sync(buffer_.data(), current); }
  /// Calls an asynchronous cleanup; the result must be awaited.
  task<void> call_async(const std::exception_ptr& current) {
    return ops_->call_async(buffer_.data(), current);
  }

  void reset() noexcept {
    if (ops_ != nullptr) {
      std::exchange(ops_, nullptr)->destroy(buffer_.data());
    }
  }

private:
  struct operations {
    bool synchronous;
    void (*call_sync)(void* storage, const std::exception_ptr& current);
    task<void> (*call_async)(void* storage, const std::exception_ptr& current);
    void (*relocate)(void* from, void* to) noexcept;
    void (*destroy)(void* storage) noexcept;
  };

  // clang-tidy 14 takes the dependent sizeof/alignof comparison for a redundant expression.
  template <class F>
  static constexpr bool fits_inline = sizeof(F) <= inline_size &&  // NOLINT(misc-redundant-expression)
                                      alignof(F) <= alignof(void*) &&
                                      std::is_nothrow_move_constructible_v<F>;

  template <class F>
  static F& object(void* storage) noexcept {
    if constexpr (fits_inline<F>) {
      return *std::launder(reinterpret_cast<F*>(storage));
    } else {
      return **reinterpret_cast<F**>(storage);
    }
  }

  template <class F>
  static constexpr operations ops_for{
      std::is_void_v<cleanup_result_t<F>>,
      [](void* storage, const std::exception_ptr& current) {
        if constexpr (std::is_void_v<cleanup_result_t<F>>) {
          call_cleanup(object<F>(storage), current);
        }
      },
      [](void* storage, const std::exception_ptr& current) -> task<void> {
        using result = cleanup_result_t<F>;
        if constexpr (std::is_void_v<result>) {
          return {};
        } else if constexpr (std::is_same_v<std::remove_cvref_t<result>, task<void>>) {
          return call_cleanup(object<F>(storage), current);
        } else {
          return await_as_task(call_cleanup(object<F>(storage), current));
        }
      },
      [](void* from, void* to) noexcept {
        if constexpr (fits_inline<F>) {
          F& source = object<F>(from);
          ::new (to) F(std::move(source));
          source.~F();
        } else {
          *static_cast<F**>(to) = *static_cast<F**>(from);
        }
      },
      [](void* storage) noexcept {
        if constexpr (fits_inline<F>) {
          object<F>(storage).~F();
        } else {
          delete *static_cast<F**>(storage);
        }
      }};

  alignas(void*) std::array<unsigned char, inline_size> buffer_{};
  const operations* ops_ = nullptr;
};

}  // namespace scopekit::detail
