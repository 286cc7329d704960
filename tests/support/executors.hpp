// tests/support/executors.hpp - run a test's tasks on each kind of executor.
//
// A suite whose fixture derives from on_each_executor is value-parameterised over the executor
// kind: run(work, stop) runs a task with sync_wait (a run_loop on the test's thread) or with
// block_on on a thread_pool of several workers that the fixture owns and joins in TearDown.
// SCOPEKIT_EXECUTORS instantiates a suite for all of them.
//
//   class Deadline : public scopekit::test::on_each_executor {};
//   TEST_P(Deadline, ExpiredDeadlineIsATimeoutError) { EXPECT_THROW(run(...), timeout_error); }
//   SCOPEKIT_EXECUTORS(Deadline);
#pragma once

#include "scopekit/block_on.hpp"
#include "scopekit/sync_wait.hpp"
#include "scopekit/task.hpp"
#include "scopekit/thread_pool.hpp"

#include <gtest/gtest.h>

#include <cstddef>
#include <optional>
#include <ostream>
#include <stop_token>
#include <string>
#include <utility>

namespace scopekit::test {

/// Which executor a parameterised test runs its tasks on.
struct executor_kind {
  std::size_t workers;  // 0: a run_loop driven by sync_wait; else a thread_pool of that many
  std::string name;
};

inline const executor_kind run_loop_kind{0, "RunLoop"};
inline const executor_kind pool_kind{4, "ThreadPool4"};

class on_each_executor : public ::testing::TestWithParam<executor_kind> {
protected:
  void SetUp() override {
    if (pooled()) {
      pool_.emplace(GetParam().workers);
    }
  }
  void TearDown() override { pool_.reset(); }  // joins: nothing may outlive the pool

  [[nodiscard]] bool pooled() const { return GetParam().workers != 0; }

  /// Runs `work` to completion on this test's executor; returns its value or rethrows.
  template <class T>
  T run(task<T> work, std::stop_token stop = {}) {
    if (pool_) {
      return block_on(*pool_, std::move(work), std::move(stop));
    }
    return sync_wait(std::move(work), std::move(stop));
  }

  std::optional<thread_pool> pool_;
};

/// How GoogleTest and ctest show the parameter.
inline void PrintTo(const executor_kind& kind, std::ostream* out) { *out << kind.name; }

inline std::string executor_name(const ::testing::TestParamInfo<executor_kind>& info) {
  return info.param.name;
}

}  // namespace scopekit::test

/// Instantiates the value-parameterised suite `suite` for a run_loop and a 4-worker pool.
#define SCOPEKIT_EXECUTORS(suite)                                                      \
  INSTANTIATE_TEST_SUITE_P(Executors, suite,                                           \
                           ::testing::Values(::scopekit::test::run_loop_kind,          \
                                             ::scopekit::test::pool_kind),             \
                           ::scopekit::test::executor_name)
