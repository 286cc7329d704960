// Tests for scopekit/sync_wait.hpp: values, exceptions, and where work resumes.
#include "scopekit/sync_wait.hpp"

#include "scopekit/task.hpp"

#include <gtest/gtest.h>

#include <coroutine>
#include <stdexcept>
#include <string>
#include <thread>

namespace {

using scopekit::sync_wait;
using scopekit::task;

task<std::string> greeting() { co_return "hello"; }

TEST(SyncWait, ReturnsTheValue) { EXPECT_EQ(sync_wait(greeting()), "hello"); }

task<> fails() {
  throw std::out_of_range("bad index");
  co_return;
}

TEST(SyncWait, RethrowsTheException) { EXPECT_THROW(sync_wait(fails()), std::out_of_range); }

/// An awaitable that completes on a new thread, the way a driver's I/O thread would, and
/// follows the rule: it posts the continuation back to the awaiting coroutine's executor.
struct completes_on_foreign_thread {
  std::thread* worker;
  std::thread::id* completed_on;
  bool await_ready() const noexcept { return false; }
  template <class P>
  void await_suspend(std::coroutine_handle<P> h) {
    scopekit::executor* exec = scopekit::detail::context_of(h).exec;
    *worker = std::thread([exec, h, id = completed_on] {
      *id = std::this_thread::get_id();
      exec->post(h);
    });
  }
  void await_resume() const noexcept {}
};

task<std::thread::id> resume_after_foreign_completion(std::thread& worker,
                                                     std::thread::id& completed_on) {
  co_await completes_on_foreign_thread{&worker, &completed_on};
  co_return std::this_thread::get_id();
}

TEST(SyncWait, ForeignCompletionResumesOnCallingThread) {
  std::thread worker;
  std::thread::id completed_on;
  const std::thread::id resumed_on =
      sync_wait(resume_after_foreign_completion(worker, completed_on));
  worker.join();
  EXPECT_NE(completed_on, std::this_thread::get_id());  // the work really was foreign
  EXPECT_EQ(resumed_on, std::this_thread::get_id());   // but the task resumed at home
}

TEST(SyncWait, CanBeCalledRepeatedly) {
  for (int i = 0; i < 100; ++i) {
    ASSERT_EQ(sync_wait(greeting()), "hello");
  }
}

}  // namespace
