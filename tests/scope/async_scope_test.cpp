// Tests for scopekit/async_scope.hpp: every exit path (return, exception, early return, stop
// from the parent, a failing child, a deadline), ordering of join and cleanups, outcomes,
// errors, spawn rules, the classic destroy-after-join race, and the abort on misuse.
#include "scopekit/async_scope.hpp"

#include "scopekit/deadline.hpp"
#include "scopekit/from_callback.hpp"
#include "scopekit/run_loop.hpp"
#include "scopekit/sleep.hpp"
#include "scopekit/sync_wait.hpp"
#include "scopekit/task.hpp"
#include "scopekit/block_on.hpp"
#include "scopekit/thread_pool.hpp"
#include "support/allocation_counter.hpp"
#include "support/executors.hpp"

#include <gtest/gtest.h>

#include <atomic>
#include <chrono>
#include <coroutine>
#include <optional>
#include <stdexcept>
#include <stop_token>
#include <string>
#include <thread>
#include <vector>

namespace {

using namespace std::chrono_literals;
using scopekit::async_scope;
using scopekit::outcome;
using scopekit::stopped_error;
using scopekit::task;

struct body_error : std::runtime_error {
  body_error() : std::runtime_error("body") {}
};
struct child_error : std::runtime_error {
  child_error() : std::runtime_error("child") {}
};
struct cleanup_error : std::runtime_error {
  cleanup_error() : std::runtime_error("cleanup") {}
};

/// A resource with an async close; counts live instances and closes.
struct stream {
  static inline std::atomic<int> live{0};
  static inline std::atomic<int> closed{0};
  bool open = true;
  stream() noexcept { ++live; }
  stream(stream&& other) noexcept : open(std::exchange(other.open, false)) { ++live; }
  stream& operator=(stream&&) = delete;
  stream(const stream&) = delete;
  stream& operator=(const stream&) = delete;
  ~stream() { --live; }
  task<> close() {
    co_await scopekit::sleep_for(0ms);  // a real suspension, resumed by the executor
    open = false;
    ++closed;
  }
};

task<stream> open_stream() { co_return stream{}; }

class AsyncScope : public scopekit::test::on_each_executor {
protected:
  void SetUp() override {
    on_each_executor::SetUp();
    stream::live = 0;
    stream::closed = 0;
  }
  void TearDown() override {
    on_each_executor::TearDown();
    EXPECT_EQ(stream::live.load(), 0);  // nothing outlived its scope, nor the pool
  }
};
SCOPEKIT_EXECUTORS(AsyncScope);

// ---- Normal end --------------------------------------------------------------------------------
TEST_P(AsyncScope, ReturnsBodyValueAfterCleanups) {
  std::vector<std::string> log;
  const int value = run(async_scope::run([&](async_scope& s) -> task<int> {
    co_await s.enter(open_stream());
    s.push([&] { log.push_back("first pushed"); });
    s.push([&s, &log] {
      log.push_back(s.outcome() == outcome::success ? "saw success" : "wrong outcome");
    });
    co_return 7;
  }));
  EXPECT_EQ(value, 7);
  EXPECT_EQ(log, (std::vector<std::string>{"saw success", "first pushed"}));  // LIFO
  EXPECT_EQ(stream::closed.load(), 1);
}

TEST_P(AsyncScope, UnusedScopeCompletes) {
  EXPECT_NO_THROW(run(async_scope::run([](async_scope&) -> task<> { co_return; })));
}

// ---- Exception in the body ---------------------------------------------------------------------
TEST_P(AsyncScope, BodyExceptionClosesEverythingAndIsRethrownUnchanged) {
  outcome seen = outcome::running;
  EXPECT_THROW(run(async_scope::run([&](async_scope& s) -> task<> {
                 co_await s.enter(open_stream());
                 s.push([&s, &seen] { seen = s.outcome(); });
                 throw body_error{};
               })),
               body_error);
  EXPECT_EQ(seen, outcome::failure);  // the cleanup knew, without uncaught_exceptions()
  EXPECT_EQ(stream::closed.load(), 1);
}

// ---- Early exit from a loop --------------------------------------------------------------------
task<> body_whose_cleanup_rethrows_its_error() {
  auto body = [](async_scope& scope) -> task<> {
    scope.push([](const std::exception_ptr& current) -> task<> {
      if (current) {
        std::rethrow_exception(current);  // hands the body's error back
      }
      co_return;
    });
    throw body_error{};
  };
  co_await async_scope::run(body);
}

TEST_P(AsyncScope, ACleanupRethrowingTheBodysErrorLeavesTheBodysErrorAlone) {
  EXPECT_THROW(run(body_whose_cleanup_rethrows_its_error()), body_error);  // not a scope_error
}

task<int> lone_async_cleanup_that_pushes_another() {
  int pushed_ran = 0;
  auto body = [&pushed_ran](async_scope& scope) -> task<> {
    scope.push([&scope, &pushed_ran]() -> task<> {
      scope.push([&pushed_ran] { ++pushed_ran; });  // during the exit's close
      co_return;
    });
    co_return;
  };
  co_await async_scope::run(body);
  co_return pushed_ran;
}

TEST_P(AsyncScope, ACleanupPushedByTheOnlyAsyncCleanupRuns) {
  EXPECT_EQ(run(lone_async_cleanup_that_pushes_another()), 1);  // was left behind: abort
}

TEST_P(AsyncScope, EarlyReturnFromLoopClosesResource) {
  const int found = run(async_scope::run([](async_scope& s) -> task<int> {
    stream& rows = co_await s.enter(open_stream());
    for (int i = 0; i < 1000; ++i) {
      if (i == 3) {
        co_return i;  // leave in the middle: rows must still be closed
      }
    }
    co_return rows.open ? -1 : -2;
  }));
  EXPECT_EQ(found, 3);
  EXPECT_EQ(stream::closed.load(), 1);
}

// ---- Children ----------------------------------------------------------------------------------
TEST_P(AsyncScope, ChildrenAreJoinedBeforeCleanups) {
  std::vector<std::string> log;
  run(async_scope::run([&](async_scope& s) -> task<> {
    s.push([&] { log.push_back("cleanup"); });
    s.spawn([](std::vector<std::string>& l) -> task<> {
      co_await scopekit::sleep_for(2ms);  // still running when the body returns
      l.push_back("child done");
    }(log));
    log.push_back("body done");
    co_return;
  }));
  EXPECT_EQ(log, (std::vector<std::string>{"body done", "child done", "cleanup"}));
}

TEST_P(AsyncScope, FailingChildStopsSiblingsAndBody) {
  std::atomic<int> stopped_siblings{0};
  outcome seen = outcome::running;
  auto sibling = [](std::atomic<int>& count) -> task<> {
    try {
      co_await scopekit::sleep_for(1h);
    } catch (const stopped_error&) {
      ++count;
      throw;  // obeying the stop is not an error
    }
  };
  EXPECT_THROW(run(async_scope::run([&](async_scope& s) -> task<> {
                 s.push([&s, &seen] { seen = s.outcome(); });
                 s.spawn(sibling(stopped_siblings));
                 s.spawn(sibling(stopped_siblings));
                 s.spawn([]() -> task<> {
                   co_await scopekit::sleep_for(1ms);
                   throw child_error{};
                 }());
                 co_await scopekit::sleep_for(1h);  // the body is stopped too
               })),
               child_error);  // the child's error, unchanged: the stops were consequences
  EXPECT_EQ(stopped_siblings.load(), 2);
  EXPECT_EQ(seen, outcome::failure);
}

TEST_P(AsyncScope, SpawnFromOtherThreadsIsJoined) {
  std::atomic<int> ran{0};
  run(async_scope::run([&](async_scope& s) -> task<> {
    std::vector<std::thread> spawners;
    spawners.reserve(4);
    for (int t = 0; t < 4; ++t) {
      spawners.emplace_back([&s, &ran] {
        for (int i = 0; i < 50; ++i) {
          s.spawn([](std::atomic<int>& r) -> task<> {
            ++r;
            co_return;
          }(ran));
        }
      });
    }
    for (auto& t : spawners) {
      t.join();  // the children are queued on the executor, which this body holds
    }
    co_return;
  }));
  EXPECT_EQ(ran.load(), 200);  // every spawned child ran before run() returned
}

TEST_P(AsyncScope, SpawnAfterJoinIsRefusedVisibly) {
  bool refused = false;
  run(async_scope::run([&](async_scope& s) -> task<> {
    s.push([&s, &refused] {  // cleanups run after the join
      try {
        s.spawn([]() -> task<> { co_return; }());
      } catch (const std::logic_error&) {
        refused = true;
      }
    });
    co_return;
  }));
  EXPECT_TRUE(refused);
}

task<> trivial_child() { co_return; }

TEST_P(AsyncScope, SpawnAllocatesOnlyTheChildFrame) {
  SCOPEKIT_SKIP_WITHOUT_ALLOCATION_COUNTER();
  if (pooled()) {
    GTEST_SKIP() << "counts run_loop's queue; the pool's deque allocates blocks as it pleases";
  }
  long spawn_allocations = -1;
  run(async_scope::run([&](async_scope& s) -> task<> {
    // Warm the executor's queue so that its growth is not counted below. run_loop alternates
    // between two buffers that keep their capacity; two rounds grow both.
    for (int round = 0; round < 2; ++round) {
      for (int i = 0; i < 64; ++i) {
        s.spawn(trivial_child());
      }
      co_await scopekit::sleep_for(0ms);  // let them run
    }
    const long before = scopekit::test::allocations();
    for (int i = 0; i < 10; ++i) {
      s.spawn(trivial_child());  // the child's frame is allocated when it is called
    }
    spawn_allocations = scopekit::test::allocations() - before;
    co_return;
  }));
  EXPECT_EQ(spawn_allocations, 10);  // one per child: its frame, nothing of the scope's own
}

// ---- Stop from the parent ----------------------------------------------------------------------
TEST_P(AsyncScope, ParentStopStopsEverythingAndCleansUp) {
  outcome seen = outcome::running;
  bool cleanup_slept = false;
  std::atomic<int> children_stopped{0};
  std::stop_source parent;
  std::thread stopper;
  EXPECT_THROW(
      run(async_scope::run([&](async_scope& s) -> task<> {
                  co_await s.enter(open_stream());
                  s.push([&]() -> task<> {
                    co_await scopekit::sleep_for(1ms);  // shielded: this sleep is not stopped
                    cleanup_slept = true;
                    seen = s.outcome();
                  });
                  s.spawn([](std::atomic<int>& c) -> task<> {
                    try {
                      co_await scopekit::sleep_for(1h);
                    } catch (const stopped_error&) {
                      ++c;
                      throw;
                    }
                  }(children_stopped));
                  stopper = std::thread([&parent] { parent.request_stop(); });
                  co_await scopekit::sleep_for(1h);
                }),
                parent.get_token()),
      stopped_error);
  stopper.join();
  EXPECT_EQ(seen, outcome::stopped);
  EXPECT_TRUE(cleanup_slept);
  EXPECT_EQ(children_stopped.load(), 1);
  EXPECT_EQ(stream::closed.load(), 1);
}

// ---- Deadline ----------------------------------------------------------------------------------
TEST_P(AsyncScope, DeadlineStopsScopeAndReportsTimeout) {
  outcome seen = outcome::running;
  EXPECT_THROW(
      run(scopekit::with_timeout(5ms, async_scope::run([&](async_scope& s) -> task<> {
                                         co_await s.enter(open_stream());
                                         s.push([&s, &seen] { seen = s.outcome(); });
                                         co_await scopekit::sleep_for(1h);
                                       }))),
      scopekit::timeout_error);
  EXPECT_EQ(seen, outcome::stopped);
  EXPECT_EQ(stream::closed.load(), 1);
}

// ---- Errors ------------------------------------------------------------------------------------
TEST_P(AsyncScope, BodyAndCleanupErrorsAreAllReachable) {
  try {
    run(async_scope::run([](async_scope& s) -> task<> {
      s.push([] { throw cleanup_error{}; });
      co_await s.enter(open_stream());
      throw body_error{};
    }));
    FAIL() << "run() did not throw";
  } catch (const scopekit::scope_error& e) {
    EXPECT_THROW(e.rethrow_primary(), body_error);  // the body's error is primary
    ASSERT_EQ(e.secondary().size(), 1U);
    EXPECT_THROW(std::rethrow_exception(e.secondary()[0]), cleanup_error);
  }
  EXPECT_EQ(stream::closed.load(), 1);  // the close still ran between them
}

// ---- The classic race --------------------------------------------------------------------------
/// Resumes the awaiting coroutine inline on a new thread: an explicit opt-out of "resume on
/// your executor", so that the child completes on a foreign thread.
// Not inlined into the coroutine: Clang keeps the temporaries of an inlined std::thread
// construction in the coroutine frame, which the new thread may free before they are destroyed
// (TSan reports it).
[[gnu::noinline]] void resume_on_new_thread(std::thread& out, std::coroutine_handle<> h) {
  out = std::thread([h] { h.resume(); });
}

struct finish_on_new_thread {
  std::thread* worker;
  bool await_ready() const noexcept { return false; }
  void await_suspend(std::coroutine_handle<> h) const {
    // Once the thread starts, the frame holding this awaiter may be gone: read it first.
    resume_on_new_thread(*worker, h);
  }
  void await_resume() const noexcept {}
};

TEST_P(AsyncScope, LastChildFinishingOnAnotherThreadWhileJoinerDestroysScope) {
  if (pooled()) {
    GTEST_SKIP() << "finish_on_new_thread stores the std::thread after the child may have been "
                    "joined; only a single-threaded executor orders the two";
  }
  for (int i = 0; i < 300; ++i) {
    std::thread worker;
    run(async_scope::run([&worker](async_scope& s) -> task<> {
      s.spawn([](std::thread& w) -> task<> { co_await finish_on_new_thread{&w}; }(worker));
      co_return;
    }));
    // The scope is gone; the worker may still be returning from on_child_done.
    worker.join();
  }
  SUCCEED();  // the assertions are ASan's and TSan's: no use after free, no data race
}

// ---- Children registering cleanups on a pool --------------------------------------------------
task<> register_many(async_scope& s, std::atomic<int>& cleaned) {
  for (int i = 0; i < 100; ++i) {
    s.push([&cleaned] { ++cleaned; });
    co_await s.enter(open_stream());
  }
}

TEST_P(AsyncScope, ChildrenPushAndEnterConcurrently) {
  // On a pool the four children run at once, each pushing and entering 100 times: the
  // scope's cleanup stack must come out whole (no lost, doubled or corrupt entry).
  for (int round = 0; round < 20; ++round) {
    std::atomic<int> cleaned{0};
    stream::closed = 0;
    auto body = [&cleaned](async_scope& s) -> task<> {
      for (int c = 0; c < 4; ++c) {
        s.spawn(register_many(s, cleaned));
      }
      co_return;
    };
    run(async_scope::run(body));
    ASSERT_EQ(cleaned.load(), 400);
    ASSERT_EQ(stream::closed.load(), 400);
  }
}

// ---- Misuse ------------------------------------------------------------------------------------
TEST(AsyncScopeDeathTest, DestroyingWithChildrenInFlightAborts) {
  GTEST_FLAG_SET(death_test_style, "threadsafe");
  EXPECT_DEATH(
      {
        scopekit::run_loop loop;
        task<> scoped = async_scope::run([](async_scope& s) -> task<> {
          s.spawn([]() -> task<> { co_await scopekit::sleep_for(1h); }());
          co_return;
        });
        scoped.handle().promise().set_own_context({&loop, {}});
        loop.post(scoped.handle());
        loop.poll();  // the body returns; run() waits to join the sleeping child
        scoped = task<>{};  // destroying run() mid-join destroys the scope
      },
      "destroyed with 1 child task");
}

// ---- request_stop against Python's newest semantics ------------------------------------------
// TaskGroup.cancel() (3.15) ends the group without an error and is idempotent; a group's own
// stop never hides an outer stop or deadline (the bug CPython has open); Trio attaches a
// reason to a cancellation.
task<> sleep_an_hour() { co_await scopekit::sleep_for(1h); }

task<outcome> stop_own_scope_twice() {
  outcome seen = outcome::running;
  auto body = [&seen](async_scope& scope) -> task<> {
    scope.push([&seen, &scope] { seen = scope.outcome(); });
    scope.spawn(sleep_an_hour());
    scope.request_stop();
    scope.request_stop();  // idempotent
    co_await scopekit::sleep_for(1h);  // stopped: a stopped_error leaves the body
  };
  co_await async_scope::run(body);  // and yet the scope ends without an error
  co_return seen;
}

TEST_P(AsyncScope, RequestStopEndsTheScopeWithoutAnErrorAndIsIdempotent) {
  EXPECT_EQ(run(stop_own_scope_twice()), outcome::stopped);  // stopped, not failed
}

task<int> stop_own_scope_before_a_value() {
  auto body = [](async_scope& scope) -> task<int> {
    scope.request_stop("shutting down");
    co_await scopekit::sleep_for(1h);
    co_return 1;
  };
  co_return co_await async_scope::run(body);
}

TEST_P(AsyncScope, AStoppedBodyWithNoValueReportsTheReason) {
  try {
    run(stop_own_scope_before_a_value());
    FAIL() << "a body that produced no value must not complete";
  } catch (const stopped_error& e) {
    EXPECT_NE(std::string(e.what()).find("shutting down"), std::string::npos) << e.what();
  }
}

task<std::string> reason_seen_by_a_cleanup() {
  std::string seen;
  auto body = [&seen](async_scope& scope) -> task<> {
    scope.push([&seen, &scope] { seen = scope.stop_reason(); });
    scope.request_stop("user pressed Ctrl-C");
    scope.request_stop("a later reason");  // the first one stays
    co_return;
  };
  co_await async_scope::run(body);
  co_return seen;
}

TEST_P(AsyncScope, TheFirstReasonIsKeptForCleanupsAndChildren) {
  EXPECT_EQ(run(reason_seen_by_a_cleanup()), "user pressed Ctrl-C");
}

/// Completes once `token` is stopped (a cleanup is shielded: this is how it sees its parent's).
task<> until_stopped(std::stop_token token) {
  std::optional<std::stop_callback<scopekit::callback_completion<void>>> wake;
  co_await scopekit::from_callback<void>(
      [&wake, &token](const scopekit::callback_completion<void>& done) { wake.emplace(token, done); },
      []() noexcept {});
}

// The scope stops itself; the outer stop arrives while it exits (in a cleanup). CPython's
// TaskGroup swallows that outer cancellation; the scope must report it.
task<> own_stop_then_outer_stop(std::stop_source& outer) {
  auto body = [&outer](async_scope& scope) -> task<> {
    scope.push([&outer] { outer.request_stop(); });
    scope.request_stop();
    co_return;
  };
  co_await async_scope::run(body);
}

TEST_P(AsyncScope, AnOwnStopNeverHidesAnOuterStop) {
  std::stop_source outer;
  EXPECT_THROW(run(own_stop_then_outer_stop(outer), outer.get_token()), stopped_error);
}

// The same with a deadline: the scope has stopped itself, and the deadline around it expires
// while a cleanup runs; the caller must get timeout_error, not a normal completion.
task<> own_stop_then_deadline_during_exit() {
  const std::stop_token deadline = co_await scopekit::current_stop_token();
  auto body = [deadline](async_scope& scope) -> task<> {
    scope.push([deadline]() -> task<> { co_await until_stopped(deadline); });
    scope.request_stop();
    co_return;
  };
  co_await async_scope::run(body);
}

TEST_P(AsyncScope, AnOwnStopNeverHidesAnOuterDeadline) {
  EXPECT_THROW(run(scopekit::with_timeout(5ms, own_stop_then_deadline_during_exit())),
               scopekit::timeout_error);
}

}  // namespace
