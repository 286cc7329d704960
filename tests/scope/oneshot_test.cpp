// Tests for scopekit/oneshot.hpp: foreign-thread delivery resumes on the awaiter's executor,
// the explicit inline opt-out, errors, a dropped sender, and stop racing delivery.
#include "scopekit/oneshot.hpp"

#include "scopekit/sync_wait.hpp"
#include "support/executors.hpp"
#include "scopekit/task.hpp"
#include "support/resumable.hpp"

#include <gtest/gtest.h>

#include <memory>
#include <stdexcept>
#include <stop_token>
#include <string>
#include <thread>
#include <utility>

namespace {

using scopekit::make_oneshot;
using scopekit::task;

static_assert(!std::is_copy_constructible_v<scopekit::oneshot_sender<int>>);
static_assert(!std::is_copy_constructible_v<scopekit::oneshot_receiver<int>>);

class Oneshot : public scopekit::test::on_each_executor {};
SCOPEKIT_EXECUTORS(Oneshot);

// A delivery that finds a coroutine waiting must resume it: post cannot fail, so the waiter
// taken out of the state before posting is never stranded (oneshot_sender::deliver).
static_assert(noexcept(std::declval<scopekit::executor&>().post(std::coroutine_handle<>{})));

struct delivery {
  std::string value;
  std::thread::id resumed_on;
};

task<delivery> await_from_foreign_thread(std::thread& producer) {
  auto [tx, rx] = make_oneshot<std::string>();
  producer = std::thread([tx = std::move(tx)]() mutable { tx.set_value(std::string{"from I/O"}); });
  std::string value = co_await std::move(rx);
  co_return delivery{std::move(value), std::this_thread::get_id()};
}

TEST_P(Oneshot, ForeignThreadValueResumesOnAwaitersExecutor) {
  for (int i = 0; i < 100; ++i) {  // delivery before and after suspension, both (TSan in CI)
    std::thread producer;
    const delivery d = run(await_from_foreign_thread(producer));
    const std::thread::id producer_id = producer.get_id();
    producer.join();
    ASSERT_EQ(d.value, "from I/O");
    ASSERT_NE(d.resumed_on, producer_id);  // never on the producer's thread
    if (!pooled()) {
      ASSERT_EQ(d.resumed_on, std::this_thread::get_id());  // sync_wait's thread
    }
  }
}

scopekit::test::resumable await_inline(scopekit::oneshot_receiver<int>& rx, int& value,
                                       std::thread::id& resumed_on) {
  value = co_await rx.resume_inline();
  resumed_on = std::this_thread::get_id();
}

TEST(Oneshot, ResumeInlineRunsTheAwaiterOnTheSendersThread) {
  auto channel = make_oneshot<int>();  // not a structured binding: clang 14 cannot capture one
  auto& tx = channel.first;
  auto& rx = channel.second;
  int value = 0;
  std::thread::id resumed_on;
  scopekit::test::resumable co = await_inline(rx, value, resumed_on);
  co.resume();  // suspends on rx: nothing delivered yet
  ASSERT_FALSE(co.done());
  std::thread::id producer_id;
  std::thread producer([&tx, &producer_id] {
    producer_id = std::this_thread::get_id();
    tx.set_value(9);  // resumes the coroutine here, inline, as it asked
  });
  producer.join();
  EXPECT_TRUE(co.done());
  EXPECT_EQ(value, 9);
  EXPECT_EQ(resumed_on, producer_id);  // the explicit opt-out of the executor rule
}

task<int> value_already_there() {
  auto [tx, rx] = make_oneshot<int>();
  EXPECT_TRUE(tx.set_value(42));
  co_return co_await std::move(rx);
}

TEST_P(Oneshot, ValueDeliveredBeforeAwaitIsTakenAtOnce) {
  EXPECT_EQ(run(value_already_there()), 42);
}

task<int> error_delivered() {
  auto [tx, rx] = make_oneshot<int>();
  tx.set_exception(std::make_exception_ptr(std::out_of_range("bad page")));
  co_return co_await std::move(rx);
}

TEST_P(Oneshot, DeliveredErrorIsRethrown) {
  EXPECT_THROW(run(error_delivered()), std::out_of_range);
}

task<int> sender_dropped() {
  auto [tx, rx] = make_oneshot<int>();
  { auto gone = std::move(tx); }
  co_return co_await std::move(rx);
}

TEST_P(Oneshot, DroppedSenderBreaksTheReceiver) {
  EXPECT_THROW(run(sender_dropped()), scopekit::broken_oneshot);
}

TEST(Oneshot, DeliveringTwiceIsALogicError) {
  auto [tx, rx] = make_oneshot<int>();
  EXPECT_TRUE(tx.set_value(1));
  EXPECT_THROW(tx.set_value(2), std::logic_error);
}

TEST(Oneshot, ValueAfterReceiverIsGoneIsDropped) {
  auto [tx, rx] = make_oneshot<std::unique_ptr<int>>();
  { auto gone = std::move(rx); }
  EXPECT_FALSE(tx.set_value(std::make_unique<int>(3)));  // dropped, not leaked
}

task<bool> stop_versus_value(std::thread& stopper, std::thread& producer,
                             std::stop_source& source) {
  auto [tx, rx] = make_oneshot<int>();
  stopper = std::thread([&source] { source.request_stop(); });
  producer = std::thread([tx = std::move(tx)]() mutable { (void)tx.set_value(7); });
  try {
    const int v = co_await std::move(rx);
    co_return v == 7;  // the value won the race
  } catch (const scopekit::stopped_error&) {
    co_return true;  // the stop won: the late value is discarded, nothing resumes twice
  }
}

TEST_P(Oneshot, StopRacingDeliveryResumesExactlyOnce) {
  for (int i = 0; i < 200; ++i) {
    std::stop_source source;
    std::thread stopper;
    std::thread producer;
    const bool consistent =
        run(stop_versus_value(stopper, producer, source), source.get_token());
    stopper.join();
    producer.join();
    ASSERT_TRUE(consistent);
  }
}

}  // namespace
