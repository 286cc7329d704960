// tests/support/callables.hpp - the callable kinds every guard is tested with, and counters.
//
// Each kind K provides `K::function_type` (the guard's template argument) and `K::make()`
// (what the guard is built from). All of them add one to `call_log::calls` when called, and the
// special functors count their copies and moves in `call_log` too.
#pragma once

#include <functional>
#include <memory>
#include <stdexcept>
#include <type_traits>

namespace scopekit::test {

/// Process-wide tallies; reset() at the start of every test.
struct call_log {
  static inline int calls = 0;
  static inline int copies = 0;
  static inline int moves = 0;
  static inline bool throw_on_copy = false;
  static inline bool throw_on_move = false;

  static void reset() noexcept {
    calls = copies = moves = 0;
    throw_on_copy = throw_on_move = false;
  }
};

/// The exception the throwing functors raise.
struct copy_failed : std::runtime_error {
  copy_failed() : std::runtime_error("copy failed") {}
};

inline void count_call() noexcept { ++call_log::calls; }

/// A functor with a noexcept move and no copy.
struct move_only_fn {
  std::unique_ptr<int> state = std::make_unique<int>(0);
  void operator()() noexcept { ++call_log::calls; }
};

/// A functor whose copy may throw (when call_log::throw_on_copy is set); its move cannot.
struct throwing_copy_fn {
  throwing_copy_fn() = default;
  throwing_copy_fn(const throwing_copy_fn&) {
    if (call_log::throw_on_copy) {
      throw copy_failed{};
    }
    ++call_log::copies;
  }
  throwing_copy_fn(throwing_copy_fn&&) noexcept { ++call_log::moves; }
  throwing_copy_fn& operator=(const throwing_copy_fn&) = delete;
  throwing_copy_fn& operator=(throwing_copy_fn&&) = delete;
  ~throwing_copy_fn() = default;
  void operator()() noexcept { ++call_log::calls; }
};

/// A functor whose move is not noexcept (and throws when call_log::throw_on_move is set), with
/// a copy that cannot throw: guards must copy it rather than move it.
struct throwing_move_fn {
  throwing_move_fn() = default;
  throwing_move_fn(const throwing_move_fn&) noexcept { ++call_log::copies; }
  throwing_move_fn(throwing_move_fn&&) noexcept(false) {
    if (call_log::throw_on_move) {
      throw copy_failed{};
    }
    ++call_log::moves;
  }
  throwing_move_fn& operator=(const throwing_move_fn&) = delete;
  throwing_move_fn& operator=(throwing_move_fn&&) = delete;
  ~throwing_move_fn() = default;
  void operator()() noexcept { ++call_log::calls; }
};

// The kinds, for typed tests.
inline constexpr auto counting_lambda = [] { ++call_log::calls; };

struct lambda_kind {
  using function_type = std::remove_const_t<decltype(counting_lambda)>;
  static function_type make() noexcept { return counting_lambda; }
};

struct function_pointer_kind {
  using function_type = void (*)();
  static function_type make() noexcept { return &count_call; }
};

struct function_reference_kind {
  using function_type = void (&)();
  static function_type make() noexcept { return count_call; }
};

struct move_only_kind {
  using function_type = move_only_fn;
  static function_type make() { return {}; }
};

struct throwing_copy_kind {
  using function_type = throwing_copy_fn;
  static function_type make() { return {}; }
};

struct throwing_move_kind {
  using function_type = throwing_move_fn;
  static function_type make() { return {}; }
};

struct std_function_kind {
  using function_type = std::function<void()>;
  static function_type make() { return &count_call; }
};

}  // namespace scopekit::test
