// tests/support/counted.hpp - count the live objects of a type, from any thread.
//
// Derive from counted<T> (or hold a counted<Tag> member, or capture one in a lambda) and
// counted<T>::live() tells how many such objects exist right now: every constructor adds one,
// the destructor subtracts one. The count is atomic, so objects may be created and destroyed on
// several threads; tests check it returned to its starting value (zero) to prove that nothing
// leaked and nothing was destroyed twice.
#pragma once

#include <atomic>

namespace scopekit::test {

template <class Tag>
class counted {
public:
  counted() noexcept { live_.fetch_add(1, std::memory_order_relaxed); }
  counted(const counted& /*other*/) noexcept { live_.fetch_add(1, std::memory_order_relaxed); }
  counted(counted&& /*other*/) noexcept { live_.fetch_add(1, std::memory_order_relaxed); }
  counted& operator=(const counted&) noexcept = default;
  counted& operator=(counted&&) noexcept = default;
  ~counted() { live_.fetch_sub(1, std::memory_order_relaxed); }

  /// How many counted<Tag> objects exist now.
  [[nodiscard]] static int live() noexcept { return live_.load(std::memory_order_relaxed); }

private:
  static inline std::atomic<int> live_{0};
};

}  // namespace scopekit::test
