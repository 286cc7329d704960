// tests/support/allocation_counter.hpp - how many times operator new ran in this process.
//
// Link tests/support/allocation_counter.cpp into a test binary to replace the global
// operator new/delete with counting versions; then compare allocations() (or allocated_bytes())
// before and after.
#pragma once

namespace scopekit::test {

/// Calls to any global operator new so far (all threads).
long allocations() noexcept;

/// Bytes requested from the global operator new so far (all threads).
long long allocated_bytes() noexcept;

}  // namespace scopekit::test
