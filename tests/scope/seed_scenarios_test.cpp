// The seed project's scenarios (async-cassandra's streaming result set), in C++: a stream
// registers a callback on the driver's future, and that callback holds the stream. That is a
// shared_ptr cycle: stream -> future -> registry -> callback -> stream. Entered into an
// async_scope, the stream is closed on every exit path (exception during processing, early
// exit, cancellation, timeout) and the cycle is freed. Without the scope it leaks, which the
// last test shows and then repairs, so that the suite itself leaks nothing under LSan. Every
// scenario runs on a run_loop and on a thread_pool.
#include "scopekit/async_scope.hpp"
#include "scopekit/callback_registry.hpp"
#include "scopekit/deadline.hpp"
#include "scopekit/sleep.hpp"
#include "scopekit/task.hpp"
#include "support/executors.hpp"

#include <gtest/gtest.h>

#include <atomic>
#include <chrono>
#include <memory>
#include <stdexcept>
#include <stop_token>
#include <thread>

namespace {

using namespace std::chrono_literals;
using scopekit::async_scope;
using scopekit::task;

/// The driver's future for a paged query: its I/O thread invokes on_page for each page.
struct page_future {
  scopekit::callback_registry<void(int) noexcept> on_page;
};

/// The result set. Holds its future; its callback, registered on that future, holds it.
class result_stream {
public:
  static inline std::atomic<int> live{0};
  std::atomic<int> pages{0};

  explicit result_stream(std::shared_ptr<page_future> future) : future_(std::move(future)) {
    ++live;
  }
  result_stream(const result_stream&) = delete;
  result_stream& operator=(const result_stream&) = delete;
  ~result_stream() { --live; }

  static std::shared_ptr<result_stream> open(const std::shared_ptr<page_future>& future) {
    auto stream = std::make_shared<result_stream>(future);
    // The strong capture is the cycle that async-cassandra's result set forms.
    stream->registration_ =
        future->on_page.add([stream](int) noexcept { stream->pages.fetch_add(1); });
    return stream;
  }

  /// Unregistering destroys the callback, and with it the stream's self-reference.
  task<> close() {
    registration_.reset();
    co_return;
  }

private:
  std::shared_ptr<page_future> future_;
  scopekit::callback_registration registration_;
};

/// What the scope owns: a handle whose close() closes the stream.
struct stream_handle {
  std::shared_ptr<result_stream> stream;
  task<> close() const { return stream->close(); }
};

task<stream_handle> execute_stream(std::shared_ptr<page_future> future) {
  co_return stream_handle{result_stream::open(future)};
}

struct processing_error : std::runtime_error {
  processing_error() : std::runtime_error("row could not be processed") {}
};

// On a run_loop and on a thread_pool: the body, the cleanups and the I/O thread's callbacks
// then run on three different threads.
class SeedScenario : public scopekit::test::on_each_executor {
protected:
  void SetUp() override {
    on_each_executor::SetUp();
    result_stream::live = 0;
  }

  /// Pages arrive from an I/O thread while the body runs.
  void deliver_pages(const std::shared_ptr<page_future>& future) {
    io_ = std::thread([future] {
      for (int page = 0; page < 100; ++page) {
        future->on_page.invoke(page);
      }
    });
  }

  void TearDown() override {
    if (io_.joinable()) {
      io_.join();
    }
    on_each_executor::TearDown();
  }

  std::thread io_;
};
SCOPEKIT_EXECUTORS(SeedScenario);

TEST_P(SeedScenario, ExceptionDuringProcessingClosesTheStream) {
  auto future = std::make_shared<page_future>();
  std::weak_ptr<result_stream> watch;
  EXPECT_THROW(run(async_scope::run([&](async_scope& s) -> task<> {
                 stream_handle& rows = co_await s.enter(execute_stream(future));
                 watch = rows.stream;
                 deliver_pages(future);
                 throw processing_error{};
               })),
               processing_error);
  future.reset();  // the driver lets go of its future too
  EXPECT_TRUE(watch.expired());  // the cycle was broken by close()
  EXPECT_EQ(result_stream::live.load(), 0);
}

TEST_P(SeedScenario, EarlyExitFromTheLoopClosesTheStream) {
  auto future = std::make_shared<page_future>();
  std::weak_ptr<result_stream> watch;
  const int first_big = run(async_scope::run([&](async_scope& s) -> task<int> {
    stream_handle& rows = co_await s.enter(execute_stream(future));
    watch = rows.stream;
    deliver_pages(future);
    for (int row = 0;; ++row) {
      if (row * row > 50) {
        co_return row;  // break out early: the rest of the result is never read
      }
    }
  }));
  EXPECT_EQ(first_big, 8);
  future.reset();
  EXPECT_TRUE(watch.expired());
  EXPECT_EQ(result_stream::live.load(), 0);
}

TEST_P(SeedScenario, CancellationClosesTheStream) {
  auto future = std::make_shared<page_future>();
  std::weak_ptr<result_stream> watch;
  std::stop_source caller;
  std::thread canceller;
  EXPECT_THROW(run(async_scope::run([&](async_scope& s) -> task<> {
                           stream_handle& rows = co_await s.enter(execute_stream(future));
                           watch = rows.stream;
                           deliver_pages(future);
                           canceller = std::thread([&caller] { caller.request_stop(); });
                           co_await scopekit::sleep_for(1h);  // waiting for the next page
                         }),
                         caller.get_token()),
               scopekit::stopped_error);
  canceller.join();
  future.reset();
  EXPECT_TRUE(watch.expired());
  EXPECT_EQ(result_stream::live.load(), 0);
}

TEST_P(SeedScenario, TimeoutClosesTheStream) {
  auto future = std::make_shared<page_future>();
  std::weak_ptr<result_stream> watch;
  EXPECT_THROW(
      run(scopekit::with_timeout(2ms, async_scope::run([&](async_scope& s) -> task<> {
                                         stream_handle& rows =
                                             co_await s.enter(execute_stream(future));
                                         watch = rows.stream;
                                         co_await scopekit::sleep_for(1h);  // the page never comes
                                       }))),
      scopekit::timeout_error);
  future.reset();
  EXPECT_TRUE(watch.expired());
  EXPECT_EQ(result_stream::live.load(), 0);
}

TEST_P(SeedScenario, WithoutAScopeTheCycleLeaks) {
  std::weak_ptr<result_stream> watch;
  std::weak_ptr<page_future> future_watch;
  {
    auto future = std::make_shared<page_future>();
    future_watch = future;
    stream_handle rows = run(execute_stream(future));
    watch = rows.stream;
    // The caller forgets close(): every outside reference is dropped here.
  }
  EXPECT_FALSE(watch.expired());         // the stream keeps itself alive through its callback
  EXPECT_FALSE(future_watch.expired());  // and the future with it: a leak, forever
  EXPECT_EQ(result_stream::live.load(), 1);
  // Repair it, so that the suite leaks nothing: closing the registry destroys the callback.
  future_watch.lock()->on_page.close();
  EXPECT_TRUE(watch.expired());
  EXPECT_TRUE(future_watch.expired());
  EXPECT_EQ(result_stream::live.load(), 0);
}

}  // namespace
