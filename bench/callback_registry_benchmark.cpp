// bench/callback_registry_benchmark.cpp - what callback_registry costs next to what it replaces.
//
// Baselines in the same binary, so that results read as ratios:
//
//   BM_RegistryAddRemove               add() then destroy the registration
//   BM_StopCallbackRegisterUnregister  construct then destroy a std::stop_callback on a token
//   BM_VectorOfFunctionAddRemove       push a std::function with an id, find it, erase it
//
// each with 0 or 16 other callbacks already registered (the benchmark argument), and with a
// callable that captures a pointer (trivially copyable: the registry builds it under its lock)
// or, for `...SharedCapture`, a std::shared_ptr (copied and destroyed outside the lock).
//
//   BM_RegistryInvoke16                invoke() with 16 callbacks registered
//   BM_VectorOfFunctionInvoke16        call each of 16 std::function in a vector
//
// The registry unlocks its mutex around every call (a callback may remove itself, or others,
// and removal from another thread must be able to wait for it), so invoking costs one
// lock/unlock pair per callback more than a plain loop; that is the price of its contract.
//
// Every benchmark checks afterwards that the callbacks ran as often as they should (invoke),
// or that nothing stayed registered (add/remove), and reports an error otherwise.
#include "scopekit/callback_registry.hpp"

#include <benchmark/benchmark.h>

#include <algorithm>
#include <cstdint>
#include <functional>
#include <memory>
#include <stop_token>
#include <utility>
#include <vector>

namespace {

std::int64_t calls = 0;  // every callback adds one

// The callables: one capturing a pointer, one capturing a shared_ptr.
struct pointer_callback {
  std::int64_t* counter;
  void operator()() const noexcept { ++*counter; }
};

struct shared_callback {
  std::int64_t* counter;
  std::shared_ptr<int> owned;  // copied and destroyed with the callable
  void operator()() const noexcept { ++*counter; }
};

using registry_type = scopekit::callback_registry<void() noexcept>;

// --- add + remove ------------------------------------------------------------------------------

template <class Callback>
void registry_add_remove(benchmark::State& state, const Callback& callback) {
  registry_type registry;
  std::vector<scopekit::callback_registration> background;
  for (std::int64_t i = 0; i < state.range(0); ++i) {
    background.push_back(registry.add(callback));
  }
  for (auto _ : state) {
    auto registration = registry.add(callback);
    benchmark::DoNotOptimize(registration);
  }
  background.clear();
  const std::int64_t before = calls;
  registry.invoke();
  if (calls != before) {
    state.SkipWithError("a callback stayed registered");
  }
}

template <class Callback>
void stop_callback_register_unregister(benchmark::State& state, const Callback& callback) {
  std::stop_source source;
  const std::stop_token token = source.get_token();
  std::vector<std::unique_ptr<std::stop_callback<Callback>>> background;
  for (std::int64_t i = 0; i < state.range(0); ++i) {
    background.push_back(std::make_unique<std::stop_callback<Callback>>(token, callback));
  }
  for (auto _ : state) {
    const std::stop_callback<Callback> registration{token, callback};
    benchmark::DoNotOptimize(&registration);
  }
  background.clear();
  const std::int64_t before = calls;
  source.request_stop();
  if (calls != before) {
    state.SkipWithError("a callback stayed registered");
  }
}

template <class Callback>
void vector_of_function_add_remove(benchmark::State& state, const Callback& callback) {
  std::vector<std::pair<std::uint64_t, std::function<void()>>> callbacks;
  std::uint64_t next_id = 0;
  for (std::int64_t i = 0; i < state.range(0); ++i) {
    callbacks.emplace_back(next_id++, callback);
  }
  for (auto _ : state) {
    const std::uint64_t id = next_id++;
    callbacks.emplace_back(id, callback);
    benchmark::DoNotOptimize(callbacks.data());
    const auto found = std::find_if(callbacks.begin(), callbacks.end(),
                                    [id](const auto& entry) { return entry.first == id; });
    callbacks.erase(found);
  }
  if (std::cmp_not_equal(callbacks.size(), state.range(0))) {
    state.SkipWithError("a callback stayed registered");
  }
}

// --- invoke ------------------------------------------------------------------------------------

constexpr int invoked_callbacks = 16;

void check_calls(benchmark::State& state, std::int64_t before) {
  if (calls - before != invoked_callbacks * state.iterations()) {
    state.SkipWithError("the callbacks ran the wrong number of times");
  }
}

// NOLINTBEGIN(readability-identifier-naming): Google Benchmark's BM_<Thing><Case> names.
void BM_RegistryAddRemove(benchmark::State& state) {
  registry_add_remove(state, pointer_callback{&calls});
}

void BM_StopCallbackRegisterUnregister(benchmark::State& state) {
  stop_callback_register_unregister(state, pointer_callback{&calls});
}

void BM_VectorOfFunctionAddRemove(benchmark::State& state) {
  vector_of_function_add_remove(state, pointer_callback{&calls});
}

void BM_RegistryAddRemoveSharedCapture(benchmark::State& state) {
  registry_add_remove(state, shared_callback{&calls, std::make_shared<int>(0)});
}

void BM_StopCallbackRegisterUnregisterSharedCapture(benchmark::State& state) {
  stop_callback_register_unregister(state, shared_callback{&calls, std::make_shared<int>(0)});
}

void BM_VectorOfFunctionAddRemoveSharedCapture(benchmark::State& state) {
  vector_of_function_add_remove(state, shared_callback{&calls, std::make_shared<int>(0)});
}

void BM_RegistryInvoke16(benchmark::State& state) {
  registry_type registry;
  std::vector<scopekit::callback_registration> registrations;
  registrations.reserve(invoked_callbacks);
  for (int i = 0; i < invoked_callbacks; ++i) {
    registrations.push_back(registry.add(pointer_callback{&calls}));
  }
  const std::int64_t before = calls;
  for (auto _ : state) {
    registry.invoke();
  }
  check_calls(state, before);
}

void BM_VectorOfFunctionInvoke16(benchmark::State& state) {
  std::vector<std::function<void()>> callbacks(invoked_callbacks, pointer_callback{&calls});
  const std::int64_t before = calls;
  for (auto _ : state) {
    for (const auto& callback : callbacks) {
      callback();
    }
    benchmark::ClobberMemory();
  }
  check_calls(state, before);
}
// NOLINTEND(readability-identifier-naming)

}  // namespace

BENCHMARK(BM_RegistryAddRemove)->Arg(0)->Arg(16);
BENCHMARK(BM_StopCallbackRegisterUnregister)->Arg(0)->Arg(16);
BENCHMARK(BM_VectorOfFunctionAddRemove)->Arg(0)->Arg(16);
BENCHMARK(BM_RegistryAddRemoveSharedCapture)->Arg(0)->Arg(16);
BENCHMARK(BM_StopCallbackRegisterUnregisterSharedCapture)->Arg(0)->Arg(16);
BENCHMARK(BM_VectorOfFunctionAddRemoveSharedCapture)->Arg(0)->Arg(16);
BENCHMARK(BM_RegistryInvoke16);
BENCHMARK(BM_VectorOfFunctionInvoke16);
