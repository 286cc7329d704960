// bench/async_benchmark.cpp - what the async core costs next to the code it replaces.
//
// Baselines in the same binary, so that results read as ratios:
//
//   BM_ExitStackPushClose/N         push N small synchronous cleanups on an async_exit_stack,
//                                   then co_await close()
//   BM_ExitStackHandWritten/N       the same N cleanups called directly, last first, each in
//                                   its own try/catch so that every one runs
//   BM_ExitStackVectorOfFunction/N  a naive std::vector<std::function<void()>>, run in reverse
//                                   (the same try/catch)
//   BM_ExitStackPushCloseAsync/N    as BM_ExitStackPushClose, with cleanups that return a
//   BM_ExitStackHandWrittenAsync/N  task<void>; the hand-written version awaits the same tasks
//
//   BM_ScopeSpawnJoin/N             async_scope::run whose body spawns N trivial children
//   BM_SequentialAwait/N            co_await the same N trivial tasks one after the other
//
//   BM_ScopeRunOneResource          async_scope::run whose body enters one resource (its
//                                   close() is a task<void> that co_returns)
//   BM_HandWrittenOneResource       acquire, try { use } catch, co_await close(), rethrow
//
//   BM_ScopeSpawnJoinPool/N/W       BM_ScopeSpawnJoin on a thread_pool of W workers (1, 2, 4):
//                                   the children run on every worker, the joiner is posted back
//   BM_CpuBoundChildrenPool/N/W     a scope spawning N children that each compute for about a
//                                   millisecond, on a thread_pool of W workers: W = 1 against
//                                   W = N is the speed-up N workers give N independent children
//   BM_ExitStackPushClosePool/N/W   BM_ExitStackPushClose on a thread_pool of W workers
//                                   The pool variants report wall-clock time (UseRealTime): the
//                                   benchmark's own thread only waits in block_on, so its CPU
//                                   time says nothing. Compare them with the run_loop ones'
//                                   Time column, in the same run.
//
// Each benchmark runs its whole loop inside one coroutine, started by one sync_wait, so that
// sync_wait's own cost (a run_loop, a driver frame) stays out of the figures: one iteration is
// one scope, plain code and co_await only.
//
// The binary replaces the global operator new with one that counts calls, and every benchmark
// reports the allocations made inside its loop: `allocs/iter`, and for the /N benchmarks
// `allocs/entry` or `allocs/child` (per cleanup, per child). `time/entry` and `time/child` are
// the CPU time per iteration divided by N, in seconds (the console prints 12.3n for 12.3 ns).
// The exit-stack benchmarks also split one more, untimed, stack's allocations between its
// pushes (`allocs_push`) and its close() (`allocs_close`): close() is a coroutine, and its
// frames are counted like any other allocation.
// Each benchmark checks afterwards that every cleanup, close and child ran exactly as often as
// it should, and reports an error otherwise. bench/async_targets.sh turns the figures into
// the table of targets; bench/README.md says how to read them.
#include "scopekit/async_exit_stack.hpp"
#include "scopekit/async_scope.hpp"
#include "scopekit/block_on.hpp"
#include "scopekit/sync_wait.hpp"
#include "scopekit/task.hpp"
#include "scopekit/thread_pool.hpp"

#include <benchmark/benchmark.h>

#include <array>
#include <atomic>
#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <exception>
#include <functional>
#include <new>
#include <string>
#include <vector>

// --- counting allocation -----------------------------------------------------------------------

namespace {
// Calls to the global operator new. The benchmarks are single-threaded, so the count is a
// relaxed load and store, not a locked read-modify-write: counting costs about one cycle per
// allocation, and cannot tear or race into undefined behaviour even if another thread
// allocated (at worst such a count could be lost).
std::atomic<std::int64_t> allocation_count{0};

std::int64_t allocations() noexcept {
  return allocation_count.load(std::memory_order_relaxed);
}
}  // namespace

// GCC pairs the malloc in operator new with the free in operator delete and may warn about a
// mismatch that is not there: both replacements use malloc/free consistently. The unsized,
// sized and array forms all end here (libstdc++'s defaults forward to these two); nothing
// measured here is over-aligned.
#if defined(__GNUC__) && !defined(__clang__)
#pragma GCC diagnostic push
#pragma GCC diagnostic ignored "-Wmismatched-new-delete"
#endif

void* operator new(std::size_t size) {
  allocation_count.store(allocation_count.load(std::memory_order_relaxed) + 1,
                         std::memory_order_relaxed);
  if (void* p = std::malloc(size == 0 ? 1 : size)) {
    return p;
  }
  throw std::bad_alloc{};
}
void operator delete(void* p) noexcept {
  std::free(p);
}
void operator delete(void* p, std::size_t /*size*/) noexcept {
  std::free(p);
}

#if defined(__GNUC__) && !defined(__clang__)
#pragma GCC diagnostic pop
#endif

namespace {

using scopekit::async_exit_stack;
using scopekit::async_scope;
using scopekit::task;

// --- what the cleanups act on -----------------------------------------------------------------

struct cleanup_failed {};

/// A resource that a cleanup releases. `broken` is never set; it keeps release() able to
/// throw, so that no try/catch below can be optimised away.
struct handle {
  std::int64_t releases = 0;
  bool broken = false;
};

constexpr std::size_t max_entries = 64;
std::array<handle, max_entries> handles{};  // entry i releases handles[i]

[[gnu::noinline]] void release(handle& h) {
  benchmark::ClobberMemory();
  if (h.broken) {
    throw cleanup_failed{};
  }
  ++h.releases;
}

/// An asynchronous cleanup: a task that releases `h` and completes without suspending.
task<> release_async(handle& h) {
  release(h);
  co_return;
}

std::int64_t total_releases() noexcept {
  std::int64_t total = 0;
  for (const handle& h : handles) {
    total += h.releases;
  }
  return total;
}

/// A resource entered into a scope: opened by a task, closed by a task that co_returns.
struct resource {
  handle* h;
  task<> close() const {
    release(*h);
    co_return;
  }
};

task<resource> open_resource(handle& h) {
  co_return resource{&h};
}

[[gnu::noinline]] void use(resource& r) {
  benchmark::DoNotOptimize(r.h);
}

// Atomic: on a pool, children complete on several workers at once.
std::atomic<std::int64_t> children_done{0};

/// The trivial child: one frame, completes without suspending.
task<> trivial_child() {
  children_done.fetch_add(1, std::memory_order_relaxed);
  co_return;
}

// --- the harness --------------------------------------------------------------------------------

std::size_t entries(const benchmark::State& state) {
  return static_cast<std::size_t>(state.range(0));
}

/// Reports `allocated`, the allocations made over the whole loop: per iteration and, if `item`
/// is given, per item (`items` of them per iteration), with the CPU time per item.
void report(benchmark::State& state, std::int64_t allocated, const char* item = nullptr,
            std::size_t items = 1) {
  using benchmark::Counter;
  const auto total = static_cast<double>(allocated);
  state.counters["allocs/iter"] = Counter(total, Counter::kAvgIterations);
  if (item != nullptr) {
    const auto n = static_cast<double>(items);
    state.counters[std::string{"allocs/"} + item] = Counter(total / n, Counter::kAvgIterations);
    state.counters[std::string{"time/"} + item] =
        Counter(n, Counter::kIsIterationInvariantRate | Counter::kInvert);
  }
}

/// Checks that `done` things happened `per_iteration` times per iteration.
void check(benchmark::State& state, std::int64_t done, std::size_t per_iteration,
           const char* what) {
  if (done != static_cast<std::int64_t>(per_iteration) * state.iterations()) {
    state.SkipWithError(what);
  }
}

/// Runs `loop(state)`, a coroutine holding the whole benchmark loop, in one sync_wait.
template <class Loop>
void run(benchmark::State& state, Loop loop) {
  scopekit::sync_wait(loop(state));
}

/// Runs `loop(state)` the same way, as one task on a thread_pool of state.range(1) workers.
template <class Loop>
void run_on_pool(benchmark::State& state, Loop loop) {
  scopekit::thread_pool pool{static_cast<std::size_t>(state.range(1))};
  scopekit::block_on(pool, loop(state));
}

// --- exit stack: push + close ------------------------------------------------------------------

/// After the timed loop: one more stack, untimed, whose allocations are split between its N
/// pushes (`allocs_push`) and its close() (`allocs_close`, close()'s own frames plus those of
/// the cleanups it awaits).
template <class Push>
task<> split_allocations(benchmark::State& state, Push push) {
  async_exit_stack stack;
  const std::int64_t start = allocations();
  push(stack);
  const std::int64_t pushed = allocations();
  co_await stack.close();
  const std::int64_t closed = allocations();
  state.counters["allocs_push"] = static_cast<double>(pushed - start);
  state.counters["allocs_close"] = static_cast<double>(closed - pushed);
}

// Pushes N cleanups made by `make_cleanup(handle&)`, then closes, per iteration.
template <class MakeCleanup>
task<> exit_stack_push_close_with(benchmark::State& state, MakeCleanup make_cleanup) {
  const std::size_t n = entries(state);
  const auto push = [n, make_cleanup](async_exit_stack& stack) {
    for (std::size_t i = 0; i < n; ++i) {
      stack.push(make_cleanup(handles[i]));
    }
  };
  const std::int64_t releases_before = total_releases();
  const std::int64_t allocs_before = allocations();
  for (auto _ : state) {
    async_exit_stack stack;
    push(stack);
    co_await stack.close();
  }
  report(state, allocations() - allocs_before, "entry", n);
  check(state, total_releases() - releases_before, n, "a cleanup ran the wrong number of times");
  co_await split_allocations(state, push);
}

task<> exit_stack_push_close(benchmark::State& state) {
  return exit_stack_push_close_with(state, [](handle& h) { return [p = &h] { release(*p); }; });
}

task<> exit_stack_hand_written(benchmark::State& state) {
  const std::size_t n = entries(state);
  const std::int64_t releases_before = total_releases();
  const std::int64_t allocs_before = allocations();
  for (auto _ : state) {
    std::exception_ptr error;
    for (std::size_t i = n; i-- > 0;) {
      try {
        release(handles[i]);
      } catch (...) {
        if (!error) {
          error = std::current_exception();
        }
      }
    }
    if (error) {
      std::rethrow_exception(error);
    }
  }
  report(state, allocations() - allocs_before, "entry", n);
  check(state, total_releases() - releases_before, n, "a cleanup ran the wrong number of times");
  co_return;
}

task<> exit_stack_vector_of_function(benchmark::State& state) {
  const std::size_t n = entries(state);
  const std::int64_t releases_before = total_releases();
  const std::int64_t allocs_before = allocations();
  for (auto _ : state) {
    std::vector<std::function<void()>> cleanups;
    for (std::size_t i = 0; i < n; ++i) {
      cleanups.emplace_back([h = &handles[i]] { release(*h); });
    }
    std::exception_ptr error;
    for (std::size_t i = cleanups.size(); i-- > 0;) {
      try {
        cleanups[i]();
      } catch (...) {
        if (!error) {
          error = std::current_exception();
        }
      }
    }
    if (error) {
      std::rethrow_exception(error);
    }
  }
  report(state, allocations() - allocs_before, "entry", n);
  check(state, total_releases() - releases_before, n, "a cleanup ran the wrong number of times");
  co_return;
}

task<> exit_stack_push_close_async(benchmark::State& state) {
  return exit_stack_push_close_with(
      state, [](handle& h) { return [p = &h] { return release_async(*p); }; });
}

task<> exit_stack_hand_written_async(benchmark::State& state) {
  const std::size_t n = entries(state);
  const std::int64_t releases_before = total_releases();
  const std::int64_t allocs_before = allocations();
  for (auto _ : state) {
    std::exception_ptr error;
    for (std::size_t i = n; i-- > 0;) {
      // co_await is not allowed in a handler, so the error is kept, not handled there.
      try {
        co_await release_async(handles[i]);
      } catch (...) {
        if (!error) {
          error = std::current_exception();
        }
      }
    }
    if (error) {
      std::rethrow_exception(error);
    }
  }
  report(state, allocations() - allocs_before, "entry", n);
  check(state, total_releases() - releases_before, n, "a cleanup ran the wrong number of times");
}

// --- scope: spawn + join -----------------------------------------------------------------------

task<> scope_spawn_join(benchmark::State& state) {
  const std::size_t n = entries(state);
  const auto spawn_children = [n](async_scope& scope) -> task<> {
    for (std::size_t i = 0; i < n; ++i) {
      scope.spawn(trivial_child());
    }
    co_return;
  };
  // One scope before counting: the run_loop's queues grow to N entries once, then keep their
  // capacity; without this, that growth would show as a fraction in allocs/iter.
  co_await async_scope::run(spawn_children);
  const std::int64_t children_before = children_done;
  const std::int64_t allocs_before = allocations();
  for (auto _ : state) {
    co_await async_scope::run(spawn_children);
  }
  report(state, allocations() - allocs_before, "child", n);
  check(state, children_done - children_before, n, "a child ran the wrong number of times");
}

// --- CPU-bound children on a pool --------------------------------------------------------------

std::atomic<std::int64_t> cpu_children_done{0};
std::atomic<std::uint64_t> cpu_checksum{0};

/// About a millisecond of arithmetic (xorshift steps) that the compiler cannot drop.
std::uint64_t burn(std::uint64_t seed) noexcept {
  std::uint64_t x = seed | 1U;
  for (int i = 0; i < 1'000'000; ++i) {
    x ^= x << 13U;
    x ^= x >> 7U;
    x ^= x << 17U;
  }
  return x;
}

task<> cpu_child(std::uint64_t seed) {
  cpu_checksum.fetch_xor(burn(seed), std::memory_order_relaxed);
  cpu_children_done.fetch_add(1, std::memory_order_relaxed);
  co_return;
}

task<> cpu_bound_children(benchmark::State& state) {
  const std::size_t n = entries(state);
  const auto spawn_children = [n](async_scope& scope) -> task<> {
    for (std::size_t i = 0; i < n; ++i) {
      scope.spawn(cpu_child(i));
    }
    co_return;
  };
  const std::int64_t before = cpu_children_done.load();
  for (auto _ : state) {
    co_await async_scope::run(spawn_children);
  }
  check(state, cpu_children_done.load() - before, n, "a child ran the wrong number of times");
}

task<> sequential_await(benchmark::State& state) {
  const std::size_t n = entries(state);
  const std::int64_t children_before = children_done;
  const std::int64_t allocs_before = allocations();
  for (auto _ : state) {
    for (std::size_t i = 0; i < n; ++i) {
      co_await trivial_child();
    }
  }
  report(state, allocations() - allocs_before, "child", n);
  check(state, children_done - children_before, n, "a child ran the wrong number of times");
}

// --- scope: one entered resource ---------------------------------------------------------------

task<> scope_run_one_resource(benchmark::State& state) {
  const std::int64_t releases_before = total_releases();
  const std::int64_t allocs_before = allocations();
  for (auto _ : state) {
    co_await async_scope::run([](async_scope& scope) -> task<> {
      resource& r = co_await scope.enter(open_resource(handles[0]));
      use(r);
    });
  }
  report(state, allocations() - allocs_before);
  check(state, total_releases() - releases_before, 1,
        "the resource was closed the wrong number of times");
}

task<> hand_written_one_resource(benchmark::State& state) {
  const std::int64_t releases_before = total_releases();
  const std::int64_t allocs_before = allocations();
  for (auto _ : state) {
    resource r = co_await open_resource(handles[0]);
    std::exception_ptr error;
    try {
      use(r);
    } catch (...) {
      error = std::current_exception();  // co_await is not allowed in a handler
    }
    co_await r.close();
    if (error) {
      std::rethrow_exception(error);
    }
  }
  report(state, allocations() - allocs_before);
  check(state, total_releases() - releases_before, 1,
        "the resource was closed the wrong number of times");
}

// NOLINTBEGIN(readability-identifier-naming): Google Benchmark's BM_<Thing><Case> names.
void BM_ExitStackPushClose(benchmark::State& state) {
  run(state, exit_stack_push_close);
}
void BM_ExitStackHandWritten(benchmark::State& state) {
  run(state, exit_stack_hand_written);
}
void BM_ExitStackVectorOfFunction(benchmark::State& state) {
  run(state, exit_stack_vector_of_function);
}
void BM_ExitStackPushCloseAsync(benchmark::State& state) {
  run(state, exit_stack_push_close_async);
}
void BM_ExitStackHandWrittenAsync(benchmark::State& state) {
  run(state, exit_stack_hand_written_async);
}
void BM_ScopeSpawnJoin(benchmark::State& state) {
  run(state, scope_spawn_join);
}
void BM_ScopeSpawnJoinPool(benchmark::State& state) {
  run_on_pool(state, scope_spawn_join);
}
void BM_CpuBoundChildrenPool(benchmark::State& state) {
  run_on_pool(state, cpu_bound_children);
}
void BM_ExitStackPushClosePool(benchmark::State& state) {
  run_on_pool(state, exit_stack_push_close);
}
void BM_SequentialAwait(benchmark::State& state) {
  run(state, sequential_await);
}
void BM_ScopeRunOneResource(benchmark::State& state) {
  run(state, scope_run_one_resource);
}
void BM_HandWrittenOneResource(benchmark::State& state) {
  run(state, hand_written_one_resource);
}
// NOLINTEND(readability-identifier-naming)

}  // namespace

BENCHMARK(BM_ExitStackPushClose)->Arg(1)->Arg(8)->Arg(64);
BENCHMARK(BM_ExitStackHandWritten)->Arg(1)->Arg(8)->Arg(64);
BENCHMARK(BM_ExitStackVectorOfFunction)->Arg(1)->Arg(8)->Arg(64);
BENCHMARK(BM_ExitStackPushCloseAsync)->Arg(1)->Arg(8)->Arg(64);
BENCHMARK(BM_ExitStackHandWrittenAsync)->Arg(1)->Arg(8)->Arg(64);
BENCHMARK(BM_ScopeSpawnJoin)->Arg(1)->Arg(8)->Arg(64);
BENCHMARK(BM_ScopeSpawnJoinPool)->ArgsProduct({{1, 8, 64}, {1, 2, 4}})->UseRealTime();
BENCHMARK(BM_ExitStackPushClosePool)->ArgsProduct({{8, 64}, {1, 2, 4}})->UseRealTime();
BENCHMARK(BM_CpuBoundChildrenPool)
    ->Args({2, 1})
    ->Args({2, 2})
    ->Args({4, 1})
    ->Args({4, 4})
    ->UseRealTime()
    ->Unit(benchmark::kMillisecond);
BENCHMARK(BM_SequentialAwait)->Arg(1)->Arg(8)->Arg(64);
BENCHMARK(BM_ScopeRunOneResource);
BENCHMARK(BM_HandWrittenOneResource);
