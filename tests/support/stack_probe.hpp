// tests/support/stack_probe.hpp - where the machine stack is right now, for depth checks.
#pragma once

#include <cstdint>

namespace scopekit::test {

/// The address of the caller's stack frame region, as an integer. Not inlined, so that it
/// measures the depth of its call site.
[[gnu::noinline]] inline std::uintptr_t stack_address() noexcept {
  return reinterpret_cast<std::uintptr_t>(__builtin_frame_address(0));
}

}  // namespace scopekit::test
