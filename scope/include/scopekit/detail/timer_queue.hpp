// scopekit/detail/timer_queue.hpp - the timer queue run_loop and thread_pool share.
// Internal: no promises beyond what the public headers document.
#pragma once

#include "scopekit/executor.hpp"

#include <map>

namespace scopekit::detail {

/// Scheduled timers by deadline; equal deadlines keep their scheduling order.
using timer_queue = std::multimap<timer_node::clock::time_point, timer_node*>;

/// Removes `timer` if it is still queued (its deadline must not have changed since it was
/// queued). Returns whether it was. The caller holds the executor's lock.
inline bool erase_timer(timer_queue& timers, const timer_node& timer) noexcept {
  auto [first, last] = timers.equal_range(timer.deadline);
  for (auto it = first; it != last; ++it) {
    if (it->second == &timer) {
      timers.erase(it);
      return true;
    }
  }
  return false;
}

}  // namespace scopekit::detail
