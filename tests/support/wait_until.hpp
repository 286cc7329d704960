// tests/support/wait_until.hpp - a bounded poll for a condition another thread makes true.
//
// wait_until(condition, limit) checks `condition` every millisecond until it holds or `limit`
// has passed, and returns its last value. For effects that have no event to wait on (a
// connection's I/O thread discarding a late response); never for ordering a race.
//
//   EXPECT_TRUE(scopekit::test::wait_until([&] { return c.pending() == 0; }));
#pragma once

#include <chrono>
#include <thread>

namespace scopekit::test {

/// Polls `condition` until it returns true or `limit` has passed; returns its last result.
template <class Condition>
bool wait_until(Condition condition, std::chrono::milliseconds limit = std::chrono::seconds{10}) {
  const auto deadline = std::chrono::steady_clock::now() + limit;
  while (!condition()) {
    if (std::chrono::steady_clock::now() >= deadline) {
      return condition();
    }
    std::this_thread::sleep_for(std::chrono::milliseconds{1});
  }
  return true;
}

}  // namespace scopekit::test
