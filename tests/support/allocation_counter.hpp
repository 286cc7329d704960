// tests/support/allocation_counter.hpp - how many times operator new ran in this process.
//
// Link tests/support/allocation_counter.cpp into a test binary to replace the global
// operator new/delete with counting versions; then compare allocations() (or allocated_bytes())
// before and after. failing_allocations makes every operator new fail (throw std::bad_alloc,
// or return null for the nothrow form) while it lives: the way to prove that a path allocates
// nothing that could fail.
//
// Under ThreadSanitizer the replacement is impossible (its runtime is linked whole and defines
// every form of operator new and delete), so the counters stay at zero there and tests that
// need them call SCOPEKIT_SKIP_WITHOUT_ALLOCATION_COUNTER() first.
#pragma once

#if defined(__SANITIZE_THREAD__)
#define SCOPEKIT_TEST_TSAN 1
#elif defined(__has_feature)
#if __has_feature(thread_sanitizer)
#define SCOPEKIT_TEST_TSAN 1
#endif
#endif

/// Skips the current GoogleTest test where allocations cannot be counted (ThreadSanitizer).
#if defined(SCOPEKIT_TEST_TSAN)
#define SCOPEKIT_SKIP_WITHOUT_ALLOCATION_COUNTER() \
  GTEST_SKIP() << "ThreadSanitizer's runtime owns operator new: allocations are not counted"
#else
#define SCOPEKIT_SKIP_WITHOUT_ALLOCATION_COUNTER() static_cast<void>(0)
#endif

namespace scopekit::test {

/// Calls to any global operator new so far (all threads).
long allocations() noexcept;

/// Bytes requested from the global operator new so far (all threads).
long long allocated_bytes() noexcept;

/// Makes operator new fail on every thread, from construction to destruction. Not nestable.
class failing_allocations {
public:
  failing_allocations() noexcept;
  failing_allocations(const failing_allocations&) = delete;
  failing_allocations& operator=(const failing_allocations&) = delete;
  failing_allocations(failing_allocations&&) = delete;
  failing_allocations& operator=(failing_allocations&&) = delete;
  ~failing_allocations();
};

}  // namespace scopekit::test
