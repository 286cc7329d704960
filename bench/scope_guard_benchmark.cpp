// bench/scope_guard_benchmark.cpp - what each scopekit guard costs next to the code it replaces.
//
// Every guard is measured three ways in this one binary, so that results read as ratios:
//
//   BM_<Thing>Guard        the scopekit guard
//   BM_<Thing>HandWritten  the same cleanup written out with try/catch
//   BM_<Thing>StdFunction  a home-made guard that stores a std::function<void()>
//
// and each of those on two paths: the normal one, and `...Throw`, where the body throws and the
// benchmark loop catches the exception.
//
// One iteration calls one [[gnu::noinline]] function holding one scope, so each variant is
// optimised as a real function would be and can be read with objdump. The body, the cleanup and
// the resource functions are noinline too and have effects the compiler must keep; the body may
// throw, so every landing pad stays. After the loop each benchmark checks that the cleanup ran
// exactly as often as it should, and reports an error otherwise.
#include "scopekit/scope_exit.hpp"
#include "scopekit/scope_fail.hpp"
#include "scopekit/scope_success.hpp"
#include "scopekit/unique_resource.hpp"

#include <benchmark/benchmark.h>

#include <cstdint>
#include <exception>
#include <functional>
#include <utility>

namespace {

struct body_failed {};

std::int64_t cleanups = 0;  // every cleanup and every close adds one
int last_handle = 0;

[[gnu::noinline]] void body(bool fail) {
  benchmark::ClobberMemory();
  if (fail) {
    throw body_failed{};
  }
}

[[gnu::noinline]] void cleanup() noexcept {
  ++cleanups;
}

[[gnu::noinline]] int acquire_handle() noexcept {
  return ++last_handle;
}

[[gnu::noinline]] void use_handle(int handle, bool fail) {
  benchmark::DoNotOptimize(handle);
  body(fail);
}

[[gnu::noinline]] void close_handle(int handle) noexcept {
  benchmark::DoNotOptimize(handle);
  ++cleanups;
}

// The std::function guard: type-erased action, called from the destructor when `W` says so.
enum class when { always, on_failure, on_success };

template <when W>
class [[nodiscard]] function_guard {
public:
  explicit function_guard(std::function<void()> action) : action_(std::move(action)) {}
  function_guard(const function_guard&) = delete;
  function_guard(function_guard&&) = delete;
  function_guard& operator=(const function_guard&) = delete;
  function_guard& operator=(function_guard&&) = delete;

  ~function_guard() {
    if constexpr (W == when::always) {
      action_();
    } else {
      const bool failed = std::uncaught_exceptions() > uncaught_on_creation_;
      if (failed == (W == when::on_failure)) {
        action_();
      }
    }
  }

private:
  std::function<void()> action_;
  int uncaught_on_creation_ = W == when::always ? 0 : std::uncaught_exceptions();
};

// --- one scope per function: guard, hand-written, std::function -------------------------------

[[gnu::noinline]] void scope_exit_guard(bool fail) {
  scopekit::scope_exit guard{[]() noexcept { cleanup(); }};
  body(fail);
}

[[gnu::noinline]] void scope_exit_hand_written(bool fail) {
  try {
    body(fail);
  } catch (...) {
    cleanup();
    throw;
  }
  cleanup();
}

[[gnu::noinline]] void scope_exit_std_function(bool fail) {
  function_guard<when::always> guard{[] { cleanup(); }};
  body(fail);
}

[[gnu::noinline]] void scope_fail_guard(bool fail) {
  scopekit::scope_fail guard{[]() noexcept { cleanup(); }};
  body(fail);
}

[[gnu::noinline]] void scope_fail_hand_written(bool fail) {
  try {
    body(fail);
  } catch (...) {
    cleanup();
    throw;
  }
}

[[gnu::noinline]] void scope_fail_std_function(bool fail) {
  function_guard<when::on_failure> guard{[] { cleanup(); }};
  body(fail);
}

[[gnu::noinline]] void scope_success_guard(bool fail) {
  scopekit::scope_success guard{[]() noexcept { cleanup(); }};
  body(fail);
}

[[gnu::noinline]] void scope_success_hand_written(bool fail) {
  body(fail);
  cleanup();
}

[[gnu::noinline]] void scope_success_std_function(bool fail) {
  function_guard<when::on_success> guard{[] { cleanup(); }};
  body(fail);
}

[[gnu::noinline]] void unique_resource_guard(bool fail) {
  scopekit::unique_resource handle{acquire_handle(), [](int h) noexcept { close_handle(h); }};
  use_handle(handle.get(), fail);
}

[[gnu::noinline]] void unique_resource_hand_written(bool fail) {
  const int handle = acquire_handle();
  try {
    use_handle(handle, fail);
  } catch (...) {
    close_handle(handle);
    throw;
  }
  close_handle(handle);
}

[[gnu::noinline]] void unique_resource_std_function(bool fail) {
  const int handle = acquire_handle();
  function_guard<when::always> close{[handle] { close_handle(handle); }};
  use_handle(handle, fail);
}

// --- the loops ---------------------------------------------------------------------------------

enum class path { normal, exception };

// Runs `Scope` once per iteration on `p`, then checks that the cleanup ran `expected` times
// per iteration (0 or 1).
template <void (*Scope)(bool)>
void run(benchmark::State& state, path p, std::int64_t expected) {
  bool fail = p == path::exception;
  benchmark::DoNotOptimize(fail);  // the scope functions cannot be specialised for one path
  const std::int64_t before = cleanups;
  if (p == path::normal) {
    for (auto _ : state) {
      Scope(fail);
    }
  } else {
    for (auto _ : state) {
      try {
        Scope(fail);
      } catch (const body_failed&) {
        benchmark::ClobberMemory();
      }
    }
  }
  if (cleanups - before != expected * state.iterations()) {
    state.SkipWithError("the cleanup ran the wrong number of times");
  }
}

// NOLINTBEGIN(readability-identifier-naming): Google Benchmark's BM_<Thing><Case> names.
void BM_ScopeExitGuard(benchmark::State& s) {
  run<scope_exit_guard>(s, path::normal, 1);
}
void BM_ScopeExitHandWritten(benchmark::State& s) {
  run<scope_exit_hand_written>(s, path::normal, 1);
}
void BM_ScopeExitStdFunction(benchmark::State& s) {
  run<scope_exit_std_function>(s, path::normal, 1);
}
void BM_ScopeExitGuardThrow(benchmark::State& s) {
  run<scope_exit_guard>(s, path::exception, 1);
}
void BM_ScopeExitHandWrittenThrow(benchmark::State& s) {
  run<scope_exit_hand_written>(s, path::exception, 1);
}
void BM_ScopeExitStdFunctionThrow(benchmark::State& s) {
  run<scope_exit_std_function>(s, path::exception, 1);
}

void BM_ScopeFailGuard(benchmark::State& s) {
  run<scope_fail_guard>(s, path::normal, 0);
}
void BM_ScopeFailHandWritten(benchmark::State& s) {
  run<scope_fail_hand_written>(s, path::normal, 0);
}
void BM_ScopeFailStdFunction(benchmark::State& s) {
  run<scope_fail_std_function>(s, path::normal, 0);
}
void BM_ScopeFailGuardThrow(benchmark::State& s) {
  run<scope_fail_guard>(s, path::exception, 1);
}
void BM_ScopeFailHandWrittenThrow(benchmark::State& s) {
  run<scope_fail_hand_written>(s, path::exception, 1);
}
void BM_ScopeFailStdFunctionThrow(benchmark::State& s) {
  run<scope_fail_std_function>(s, path::exception, 1);
}

void BM_ScopeSuccessGuard(benchmark::State& s) {
  run<scope_success_guard>(s, path::normal, 1);
}
void BM_ScopeSuccessHandWritten(benchmark::State& s) {
  run<scope_success_hand_written>(s, path::normal, 1);
}
void BM_ScopeSuccessStdFunction(benchmark::State& s) {
  run<scope_success_std_function>(s, path::normal, 1);
}
void BM_ScopeSuccessGuardThrow(benchmark::State& s) {
  run<scope_success_guard>(s, path::exception, 0);
}
void BM_ScopeSuccessHandWrittenThrow(benchmark::State& s) {
  run<scope_success_hand_written>(s, path::exception, 0);
}
void BM_ScopeSuccessStdFunctionThrow(benchmark::State& s) {
  run<scope_success_std_function>(s, path::exception, 0);
}

void BM_UniqueResourceGuard(benchmark::State& s) {
  run<unique_resource_guard>(s, path::normal, 1);
}
void BM_UniqueResourceHandWritten(benchmark::State& s) {
  run<unique_resource_hand_written>(s, path::normal, 1);
}
void BM_UniqueResourceStdFunction(benchmark::State& s) {
  run<unique_resource_std_function>(s, path::normal, 1);
}
void BM_UniqueResourceGuardThrow(benchmark::State& s) {
  run<unique_resource_guard>(s, path::exception, 1);
}
void BM_UniqueResourceHandWrittenThrow(benchmark::State& s) {
  run<unique_resource_hand_written>(s, path::exception, 1);
}
void BM_UniqueResourceStdFunctionThrow(benchmark::State& s) {
  run<unique_resource_std_function>(s, path::exception, 1);
}
// NOLINTEND(readability-identifier-naming)

}  // namespace

BENCHMARK(BM_ScopeExitGuard);
BENCHMARK(BM_ScopeExitHandWritten);
BENCHMARK(BM_ScopeExitStdFunction);
BENCHMARK(BM_ScopeExitGuardThrow);
BENCHMARK(BM_ScopeExitHandWrittenThrow);
BENCHMARK(BM_ScopeExitStdFunctionThrow);

BENCHMARK(BM_ScopeFailGuard);
BENCHMARK(BM_ScopeFailHandWritten);
BENCHMARK(BM_ScopeFailStdFunction);
BENCHMARK(BM_ScopeFailGuardThrow);
BENCHMARK(BM_ScopeFailHandWrittenThrow);
BENCHMARK(BM_ScopeFailStdFunctionThrow);

BENCHMARK(BM_ScopeSuccessGuard);
BENCHMARK(BM_ScopeSuccessHandWritten);
BENCHMARK(BM_ScopeSuccessStdFunction);
BENCHMARK(BM_ScopeSuccessGuardThrow);
BENCHMARK(BM_ScopeSuccessHandWrittenThrow);
BENCHMARK(BM_ScopeSuccessStdFunctionThrow);

BENCHMARK(BM_UniqueResourceGuard);
BENCHMARK(BM_UniqueResourceHandWritten);
BENCHMARK(BM_UniqueResourceStdFunction);
BENCHMARK(BM_UniqueResourceGuardThrow);
BENCHMARK(BM_UniqueResourceHandWrittenThrow);
BENCHMARK(BM_UniqueResourceStdFunctionThrow);
