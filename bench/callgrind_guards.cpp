// bench/callgrind_guards.cpp - the scopes that callgrind_guards.sh counts instructions in.
//
// Each guard has a pair of [[gnu::noinline]] functions in namespace `cases`, <guard>_guard and
// <guard>_hand_written, doing the same observable work: call an opaque body that may throw,
// and run the cleanup (add one to `cleanups`, or close a handle) on the paths the guard would.
// scope_fail and scope_success also have <guard>_same_rule: the P0052R10 exception-count rule
// written by hand, the baseline for what the guard itself adds.
//
//   callgrind_guards <case> [calls]     e.g.  callgrind_guards scope_fail_guard 1000000
//
// calls cases::<case>() `calls` times (default 1,000,000), then prints
// "<case> calls=<n> cleanups=<m> work=... closed=..." so that the script can check that the
// cleanup really ran, and so that no counter is write-only (which would let the compiler drop it).
#include "scopekit/scope_exit.hpp"
#include "scopekit/scope_fail.hpp"
#include "scopekit/scope_success.hpp"
#include "scopekit/unique_resource.hpp"

#include <array>
#include <cstdio>
#include <cstdlib>
#include <exception>
#include <string_view>

namespace {

struct body_failed {};

// Never set: the compiler must still assume that the body can throw.
volatile bool fail_now = false;

unsigned long work = 0;
long cleanups = 0;
long closed_handles_sum = 0;  // the closes must receive the handle, not just happen
int last_handle = 0;

[[gnu::noinline]] void body() {
  if (fail_now) {
    throw body_failed{};
  }
  ++work;
}

[[gnu::noinline]] int acquire_handle() noexcept {
  return ++last_handle;
}

[[gnu::noinline]] void use_handle(int handle) {
  if (fail_now) {
    throw body_failed{};
  }
  work += static_cast<unsigned long>(handle);
}

[[gnu::noinline]] void close_handle(int handle) noexcept {
  closed_handles_sum += handle;
  ++cleanups;
}

}  // namespace

namespace cases {

[[gnu::noinline]] void scope_exit_guard() {
  scopekit::scope_exit guard{[]() noexcept { ++cleanups; }};
  body();
}

[[gnu::noinline]] void scope_exit_hand_written() {
  try {
    body();
  } catch (...) {
    ++cleanups;
    throw;
  }
  ++cleanups;
}

[[gnu::noinline]] void scope_fail_guard() {
  scopekit::scope_fail guard{[]() noexcept { ++cleanups; }};
  body();
}

[[gnu::noinline]] void scope_fail_hand_written() {
  try {
    body();
  } catch (...) {
    ++cleanups;
    throw;
  }
}

// The P0052R10 rule written by hand: a local struct that counts uncaught exceptions at
// construction and compares at destruction. The fair baseline for what the guard adds.
struct fail_rule_by_hand {
  int before = std::uncaught_exceptions();
  fail_rule_by_hand() = default;
  fail_rule_by_hand(const fail_rule_by_hand&) = delete;
  fail_rule_by_hand& operator=(const fail_rule_by_hand&) = delete;
  ~fail_rule_by_hand() {
    if (std::uncaught_exceptions() > before) {
      ++cleanups;
    }
  }
};

struct success_rule_by_hand {
  int before = std::uncaught_exceptions();
  success_rule_by_hand() = default;
  success_rule_by_hand(const success_rule_by_hand&) = delete;
  success_rule_by_hand& operator=(const success_rule_by_hand&) = delete;
  ~success_rule_by_hand() {
    if (std::uncaught_exceptions() <= before) {
      ++cleanups;
    }
  }
};

[[gnu::noinline]] void scope_fail_same_rule() {
  const fail_rule_by_hand rule;
  body();
}

[[gnu::noinline]] void scope_success_same_rule() {
  const success_rule_by_hand rule;
  body();
}

[[gnu::noinline]] void scope_success_guard() {
  scopekit::scope_success guard{[]() noexcept { ++cleanups; }};
  body();
}

[[gnu::noinline]] void scope_success_hand_written() {
  body();
  ++cleanups;
}

[[gnu::noinline]] void unique_resource_guard() {
  scopekit::unique_resource handle{acquire_handle(), [](int h) noexcept { close_handle(h); }};
  use_handle(handle.get());
}

[[gnu::noinline]] void unique_resource_hand_written() {
  const int handle = acquire_handle();
  try {
    use_handle(handle);
  } catch (...) {
    close_handle(handle);
    throw;
  }
  close_handle(handle);
}

}  // namespace cases

namespace {

struct named_case {
  std::string_view name;
  void (*run)();
};

constexpr std::array all_cases{
    named_case{"scope_exit_guard", cases::scope_exit_guard},
    named_case{"scope_exit_hand_written", cases::scope_exit_hand_written},
    named_case{"scope_fail_guard", cases::scope_fail_guard},
    named_case{"scope_fail_hand_written", cases::scope_fail_hand_written},
    named_case{"scope_success_guard", cases::scope_success_guard},
    named_case{"scope_success_hand_written", cases::scope_success_hand_written},
    named_case{"scope_fail_same_rule", cases::scope_fail_same_rule},
    named_case{"scope_success_same_rule", cases::scope_success_same_rule},
    named_case{"unique_resource_guard", cases::unique_resource_guard},
    named_case{"unique_resource_hand_written", cases::unique_resource_hand_written},
};

}  // namespace

int main(int argc, char** argv) {
  if (argc < 2 || argc > 3) {
    std::fprintf(stderr, "usage: %s <case> [calls]\ncases:", argv[0]);
    for (const auto& c : all_cases) {
      std::fprintf(stderr, " %.*s", static_cast<int>(c.name.size()), c.name.data());
    }
    std::fprintf(stderr, "\n");
    return 2;
  }
  const std::string_view wanted = argv[1];
  const long calls = argc == 3 ? std::strtol(argv[2], nullptr, 10) : 1'000'000;
  for (const auto& c : all_cases) {
    if (c.name == wanted) {
      for (long i = 0; i < calls; ++i) {
        c.run();
      }
      std::printf("%s calls=%ld cleanups=%ld work=%lu closed=%ld\n", argv[1], calls, cleanups, work,
                  closed_handles_sum);
      return 0;
    }
  }
  std::fprintf(stderr, "%s: unknown case '%s'\n", argv[0], argv[1]);
  return 2;
}
