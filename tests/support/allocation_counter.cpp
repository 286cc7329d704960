// Replaces the global allocation functions with versions that count calls.
#include "support/allocation_counter.hpp"

#include <atomic>
#include <cstdlib>
#include <new>

namespace {
std::atomic<long> count{0};
std::atomic<long long> bytes{0};
std::atomic<bool> failing{false};
}  // namespace

scopekit::test::failing_allocations::failing_allocations() noexcept {
  failing.store(true, std::memory_order_relaxed);
}
scopekit::test::failing_allocations::~failing_allocations() {
  failing.store(false, std::memory_order_relaxed);
}

long scopekit::test::allocations() noexcept { return count.load(std::memory_order_relaxed); }
long long scopekit::test::allocated_bytes() noexcept {
  return bytes.load(std::memory_order_relaxed);
}

#if !defined(SCOPEKIT_TEST_TSAN)
// GCC pairs the inlined malloc in operator new with the free in operator delete and warns
// about a mismatch that is not there: both replacements use malloc/free consistently.
#if defined(__GNUC__) && !defined(__clang__)
#pragma GCC diagnostic push
#pragma GCC diagnostic ignored "-Wmismatched-new-delete"
#endif

void* operator new(std::size_t size) {
  count.fetch_add(1, std::memory_order_relaxed);
  bytes.fetch_add(static_cast<long long>(size), std::memory_order_relaxed);
  if (failing.load(std::memory_order_relaxed)) {
    throw std::bad_alloc{};
  }
  if (void* p = std::malloc(size == 0 ? 1 : size)) {
    return p;
  }
  throw std::bad_alloc{};
}
// The nothrow form too (std::stable_sort's temporary buffer uses it): left to the library (or
// to a sanitizer's interceptor, which allocates its own way), its memory would come back
// through the free() above, a mismatch AddressSanitizer reports.
void* operator new(std::size_t size, const std::nothrow_t&) noexcept {
  count.fetch_add(1, std::memory_order_relaxed);
  bytes.fetch_add(static_cast<long long>(size), std::memory_order_relaxed);
  if (failing.load(std::memory_order_relaxed)) {
    return nullptr;
  }
  return std::malloc(size == 0 ? 1 : size);
}
void operator delete(void* p) noexcept { std::free(p); }
void operator delete(void* p, std::size_t) noexcept { std::free(p); }
void operator delete(void* p, const std::nothrow_t&) noexcept { std::free(p); }

#if defined(__GNUC__) && !defined(__clang__)
#pragma GCC diagnostic pop
#endif
#endif  // !SCOPEKIT_TEST_TSAN
