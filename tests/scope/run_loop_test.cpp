// Tests for scopekit/run_loop.hpp: order, threads, timers, finish.
#include "scopekit/run_loop.hpp"

#include "support/resumable.hpp"

#include <gtest/gtest.h>

#include <chrono>
#include <coroutine>
#include <stdexcept>
#include <string>
#include <thread>
#include <utility>
#include <vector>

namespace {

using scopekit::run_loop;
using scopekit::timer_node;

/// Appends `tag` to `log` when resumed, then finishes.
scopekit::test::resumable append(std::string& log, char tag) {
  log += tag;
  co_return;
}

/// A timer that records its tag when it fires.
struct tagged_timer {
  timer_node node;
  char tag;
  std::string* log;
};

void record_fire(timer_node& node) noexcept {
  auto& self = reinterpret_cast<tagged_timer&>(node);  // node is the first member
  *self.log += self.tag;
}

TEST(RunLoop, RunsPostedWorkInFifoOrder) {
  run_loop loop;
  std::string log;
  auto a = append(log, 'a');
  auto b = append(log, 'b');
  auto c = append(log, 'c');
  loop.post(a.handle());
  loop.post(b.handle());
  loop.post(c.handle());
  loop.finish();  // finish only ends run() once the posted work is done
  loop.run();
  EXPECT_EQ(log, "abc");
}

/// A raw coroutine whose exception escapes resume(), as a user's own coroutine type may.
struct escaping {
  struct promise_type {
    escaping get_return_object() noexcept {
      return escaping{std::coroutine_handle<promise_type>::from_promise(*this)};
    }
    std::suspend_always initial_suspend() noexcept { return {}; }
    std::suspend_always final_suspend() noexcept { return {}; }
    void return_void() noexcept {}
    void unhandled_exception() { throw; }  // let it out of resume()
  };
  explicit escaping(std::coroutine_handle<promise_type> h) noexcept : handle(h) {}
  escaping(escaping&& other) noexcept : handle(std::exchange(other.handle, {})) {}
  escaping(const escaping&) = delete;
  escaping& operator=(const escaping&) = delete;
  escaping& operator=(escaping&&) = delete;
  ~escaping() {
    if (handle) {
      handle.destroy();
    }
  }
  std::coroutine_handle<promise_type> handle;
};

escaping throws_when_resumed() {
  throw std::runtime_error("raw coroutine failed");
  co_return;
}

TEST(RunLoop, ExceptionFromContinuationKeepsTheRestQueued) {
  run_loop loop;
  std::string log;
  auto bad = throws_when_resumed();
  auto after = append(log, 'x');
  loop.post(bad.handle);
  loop.post(after.handle());
  EXPECT_THROW(loop.poll(), std::runtime_error);  // the escaping exception reaches the caller
  EXPECT_EQ(log, "");          // the second item has not run yet
  EXPECT_EQ(loop.poll(), 1U);  // but it is still queued, not dropped
  EXPECT_EQ(log, "x");
}

TEST(RunLoop, TimersWithEqualDeadlinesFireInSchedulingOrder) {
  run_loop loop;
  std::string log;
  std::vector<tagged_timer> timers;
  timers.reserve(3);
  const auto past = run_loop::clock::now() - std::chrono::seconds{1};
  for (char tag : {'a', 'b', 'c'}) {
    timers.push_back(tagged_timer{timer_node{past, &record_fire}, tag, &log});
  }
  for (auto& t : timers) {
    loop.schedule(t.node);
  }
  loop.finish();
  loop.run();
  EXPECT_EQ(log, "abc");  // equal deadlines fire in scheduling order
}

TEST(RunLoop, TimersFireInDeadlineOrder) {
  run_loop loop;
  std::string log;
  const auto now = run_loop::clock::now();
  tagged_timer late{timer_node{now + std::chrono::milliseconds{2}, &record_fire}, 'L', &log};
  tagged_timer early{timer_node{now - std::chrono::milliseconds{1}, &record_fire}, 'E', &log};
  loop.schedule(late.node);
  loop.schedule(early.node);
  // Finish once the late timer has fired: a third timer after both ends the loop.
  struct finisher {
    timer_node node;
    run_loop* loop = nullptr;
  } fin{timer_node{now + std::chrono::milliseconds{3},
                   [](timer_node& n) noexcept { reinterpret_cast<finisher&>(n).loop->finish(); }},
        &loop};
  loop.schedule(fin.node);
  loop.run();
  EXPECT_EQ(log, "EL");
}

TEST(RunLoop, CancelledTimerNeverFires) {
  run_loop loop;
  std::string log;
  tagged_timer t{timer_node{run_loop::clock::now(), &record_fire}, 'x', &log};
  loop.schedule(t.node);
  EXPECT_TRUE(loop.cancel(t.node));   // removed before the loop ran
  EXPECT_FALSE(loop.cancel(t.node));  // and only once
  loop.finish();
  loop.run();
  EXPECT_EQ(log, "");
}

TEST(RunLoop, CancelAfterFireReturnsFalse) {
  run_loop loop;
  std::string log;
  tagged_timer t{timer_node{run_loop::clock::now(), &record_fire}, 'x', &log};
  loop.schedule(t.node);
  loop.finish();
  loop.run();
  EXPECT_EQ(log, "x");
  EXPECT_FALSE(loop.cancel(t.node));
}

/// Cancels `timer` when resumed, recording whether cancel() removed it.
scopekit::test::resumable cancel_when_resumed(run_loop& loop, timer_node& timer, bool& removed) {
  removed = loop.cancel(timer);
  co_return;
}

TEST(RunLoop, DueTimerCanBeCancelledUntilItFires) {
  run_loop loop;
  std::string log;
  tagged_timer t{timer_node{run_loop::clock::now() - std::chrono::seconds{1}, &record_fire}, 'x',
                 &log};
  loop.schedule(t.node);
  bool removed = false;
  auto canceller = cancel_when_resumed(loop, t.node, removed);
  loop.post(canceller.handle());  // runs ahead of the due timer, in the same batch
  loop.finish();
  loop.run();
  // It had not fired: "false" would send a canceller on this thread waiting for a fire queued
  // behind itself, or freeing a node that still fires.
  EXPECT_TRUE(removed);
  EXPECT_EQ(log, "");  // and it never fires
}

TEST(RunLoop, PostFromOtherThreadsResumesOnRunThread) {
  run_loop loop;
  constexpr std::size_t threads = 4;
  constexpr std::size_t posts_per_thread = 250;
  std::vector<std::thread::id> resumed_on;
  // One coroutine per post, each recording the thread that resumed it.
  auto make = [](std::vector<std::thread::id>& out) -> scopekit::test::resumable {
    out.push_back(std::this_thread::get_id());
    co_return;
  };
  std::vector<scopekit::test::resumable> coroutines;
  coroutines.reserve(threads * posts_per_thread);
  std::vector<std::coroutine_handle<>> handles;
  handles.reserve(threads * posts_per_thread);
  for (std::size_t i = 0; i < threads * posts_per_thread; ++i) {
    coroutines.push_back(make(resumed_on));
    handles.push_back(coroutines.back().handle());
  }
  std::vector<std::thread> posters;
  posters.reserve(threads);
  for (std::size_t t = 0; t < threads; ++t) {
    posters.emplace_back([&, t] {
      for (std::size_t i = 0; i < posts_per_thread; ++i) {
        loop.post(handles[t * posts_per_thread + i]);
      }
    });
  }
  std::thread stopper([&] {
    for (auto& p : posters) {
      p.join();
    }
    loop.finish();  // after every post: run() must still drain them all
  });
  loop.run();
  stopper.join();
  ASSERT_EQ(resumed_on.size(), threads * posts_per_thread);
  for (const auto& id : resumed_on) {
    ASSERT_EQ(id, std::this_thread::get_id());
  }
}

}  // namespace
