// Tests for scopekit/asio.hpp: a TCP echo acceptor and client in one process (127.0.0.1, port
// 0), written as scopekit tasks that await Asio operations with use_task and run on Asio with
// asio_run, on an io_context (the test's thread) and on an asio::thread_pool of 4 threads.
// Every socket and acceptor is counted: on each exit path (normal, exception, timeout, stop,
// Asio cancellation) all are closed and destroyed before the run completes.
#include "scopekit/asio.hpp"

#include "scopekit/async_scope.hpp"
#include "scopekit/deadline.hpp"
#include "scopekit/sleep.hpp"
#include "scopekit/stopped_error.hpp"
#include "scopekit/task.hpp"
#include "support/counted.hpp"

#include <asio.hpp>
#if defined(ASIO_HAS_CO_AWAIT)
#include <asio/experimental/awaitable_operators.hpp>
#endif
#include <gtest/gtest.h>

#include <array>
#include <atomic>
#include <chrono>
#include <cstddef>
#include <exception>
#include <future>
#include <optional>
#include <ostream>
#include <stdexcept>
#include <string>
#include <system_error>
#include <type_traits>
#include <utility>
#include <vector>

namespace {

using namespace std::chrono_literals;
using scopekit::async_scope;
using scopekit::task;
using scopekit::use_task;
using scopekit::test::counted;
using tcp = asio::ip::tcp;

static_assert(std::is_base_of_v<scopekit::executor, scopekit::asio_executor<asio::any_io_executor>>);
static_assert(scopekit::asio_executor_type<asio::io_context::executor_type>);
static_assert(scopekit::asio_executor_type<asio::thread_pool::executor_type>);
static_assert(!std::is_copy_constructible_v<scopekit::asio_executor<asio::any_io_executor>>);

// Open descriptors, from any thread: each wrapper adds one when it holds an open one and
// removes it when close() closes it. counted<> counts the wrapper objects themselves.
std::atomic<int> open_descriptors{0};

/// An Asio I/O object (a socket, an acceptor) a scope owns: close() is what it awaits at exit.
template <class Io>
struct tracked : counted<tracked<Io>> {
  explicit tracked(Io opened) : io(std::move(opened)) { open_descriptors.fetch_add(1); }
  task<> close() {
    if (io.is_open()) {
      asio::error_code ignored;
      io.close(ignored);
      open_descriptors.fetch_sub(1);
    }
    co_return;
  }
  Io io;
};
using tracked_socket = tracked<tcp::socket>;
using tracked_acceptor = tracked<tcp::acceptor>;

task<tracked_acceptor> listen(asio::any_io_executor ex) {
  co_return tracked_acceptor{tcp::acceptor{ex, tcp::endpoint{asio::ip::make_address("127.0.0.1"), 0}}};
}

task<tracked_socket> accept(tcp::acceptor& acceptor) {
  co_return tracked_socket{co_await acceptor.async_accept(use_task)};
}

task<tracked_socket> connect(asio::any_io_executor ex, tcp::endpoint to) {
  tcp::socket socket{ex};
  co_await socket.async_connect(to, use_task);
  co_return tracked_socket{std::move(socket)};
}

/// Echoes what one peer sends until it shuts its side down; the peer socket is the scope's.
task<> echo_one_peer(tcp::acceptor& acceptor) {
  auto body = [&acceptor](async_scope& scope) -> task<> {
    tracked_socket& peer = co_await scope.enter(accept(acceptor));
    std::array<char, 64> buffer{};
    while (true) {
      std::size_t n = 0;
      try {
        n = co_await peer.io.async_read_some(asio::buffer(buffer), use_task);
      } catch (const std::system_error& e) {
        if (e.code() == asio::error::eof) {
          co_return;
        }
        throw;
      }
      co_await asio::async_write(peer.io, asio::buffer(buffer.data(), n), use_task);
    }
  };
  co_await async_scope::run(body);
}

/// What the client does once connected, to choose the exit path.
enum class client_ends { normally, by_throwing, waiting_for_ever };

/// Listens, serves one echo peer as a child, connects to it, sends "hello" and reads it back.
task<std::string> echo_session(asio::any_io_executor ex, client_ends how) {
  auto body = [ex, how](async_scope& scope) -> task<std::string> {
    tracked_acceptor& listener = co_await scope.enter(listen(ex));
    scope.spawn(echo_one_peer(listener.io));
    tracked_socket& client = co_await scope.enter(connect(ex, listener.io.local_endpoint()));
    const std::string hello = "hello";
    co_await asio::async_write(client.io, asio::buffer(hello), use_task);
    std::string echoed(hello.size(), '\0');
    co_await asio::async_read(client.io, asio::buffer(echoed), use_task);
    if (how == client_ends::by_throwing) {
      throw std::domain_error("the client did not like " + echoed);
    }
    if (how == client_ends::waiting_for_ever) {
      std::array<char, 1> more{};  // the server echoes nothing more: only a stop ends this
      co_await client.io.async_read_some(asio::buffer(more), use_task);
    }
    client.io.shutdown(tcp::socket::shutdown_send);  // the server sees EOF and ends
    co_return echoed;
  };
  co_return co_await async_scope::run(body);
}

// ---- the two Asio worlds -------------------------------------------------------------------------
struct asio_world {
  int threads;  // 0: an io_context run on the test's thread; else an asio::thread_pool
  std::string name;
};
// NOLINTNEXTLINE(readability-identifier-naming): the name GoogleTest looks for
void PrintTo(const asio_world& world, std::ostream* out) { *out << world.name; }
std::string world_name(const ::testing::TestParamInfo<asio_world>& world) { return world.param.name; }

class AsioInterop : public ::testing::TestWithParam<asio_world> {
protected:
  void SetUp() override {
    if (GetParam().threads == 0) {
      io_.emplace();
    } else {
      pool_.emplace(GetParam().threads);
    }
  }
  void TearDown() override {
    if (pool_) {
      pool_->join();
    }
    pool_.reset();
    io_.reset();
    EXPECT_EQ(counted<tracked_socket>::live(), 0);  // nothing outlives the run that made it
    EXPECT_EQ(counted<tracked_acceptor>::live(), 0);
    EXPECT_EQ(open_descriptors.load(), 0);  // and every descriptor was closed by a cleanup
  }

  asio::any_io_executor executor() {
    return io_ ? asio::any_io_executor{io_->get_executor()} : asio::any_io_executor{pool_->get_executor()};
  }

  /// Runs `work` with asio_run and use_future; drives the io_context on this thread.
  template <class T>
  T run(task<T> work) {
    auto result = scopekit::asio_run(executor(), std::move(work), asio::use_future);
    drive();
    return result.get();
  }

  /// Runs the io_context until it has no work left (a pool runs by itself).
  void drive() {
    if (io_) {
      io_->run();
      io_->restart();
    }
  }

  std::optional<asio::io_context> io_;
  std::optional<asio::thread_pool> pool_;
};

INSTANTIATE_TEST_SUITE_P(Worlds, AsioInterop,
                         ::testing::Values(asio_world{0, "IoContext"}, asio_world{4, "ThreadPool4"}),
                         world_name);

// ---- use_task and asio_run together: the echo pair on every exit path -----------------------------
TEST_P(AsioInterop, EchoRoundTripClosesEverything) {
  EXPECT_EQ(run(echo_session(executor(), client_ends::normally)), "hello");
}

TEST_P(AsioInterop, ExceptionInTheClientStopsTheServerAndClosesEverything) {
  // The server child is in async_read_some when the body throws: the scope's stop cancels it.
  EXPECT_THROW(run(echo_session(executor(), client_ends::by_throwing)), std::domain_error);
}

TEST_P(AsioInterop, TimeoutCancelsThePendingReadAndClosesEverything) {
  EXPECT_THROW(run(scopekit::with_timeout(20ms, echo_session(executor(), client_ends::waiting_for_ever))),
               scopekit::timeout_error);
}

task<bool> stop_then_wait_on_a_timer(asio::any_io_executor ex) {
  bool stopped_at_the_co_await = false;
  auto body = [ex, &stopped_at_the_co_await](async_scope& scope) -> task<> {
    scope.request_stop();
    asio::steady_timer hour{ex, 1h};
    try {
      co_await hour.async_wait(use_task);  // not started: stop was requested before
    } catch (const scopekit::stopped_error&) {
      stopped_at_the_co_await = true;
      throw;
    }
  };
  co_await async_scope::run(body);  // request_stop() ends the scope without an error
  co_return stopped_at_the_co_await;
}

TEST_P(AsioInterop, AnOperationAwaitedAfterStopIsNotStarted) {
  EXPECT_TRUE(run(stop_then_wait_on_a_timer(executor())));  // else an hour's wait
}

task<int> count_after_sleep(int n) {
  co_await scopekit::sleep_for(1ms);  // a scopekit timer on the asio_executor
  co_return n;
}

task<int> fail_after_sleep() {
  co_await scopekit::sleep_for(1ms);
  throw std::out_of_range("row 7");
}

TEST_P(AsioInterop, UseFutureGetsTheValueOrTheException) {
  EXPECT_EQ(run(count_after_sleep(7)), 7);
  EXPECT_THROW(run(fail_after_sleep()), std::out_of_range);
}

task<int> hop_through_asio_post(asio::any_io_executor ex) {
  co_await asio::post(ex, use_task);  // a signature with no arguments: co_await yields void
  asio::steady_timer due{ex, 0s};
  co_await due.async_wait(use_task);  // void(error_code): void too
  co_return 3;
}

TEST_P(AsioInterop, OperationsWithoutValuesAreAwaitable) {
  EXPECT_EQ(run(hop_through_asio_post(executor())), 3);
}

// ---- asio_run with other completion tokens --------------------------------------------------------
// Asio 1.22 has asio::awaitable only where it finds the coroutine header it expects (GCC; not
// clang with libstdc++, the sanitizer builds).
#if defined(ASIO_HAS_CO_AWAIT)
asio::awaitable<int> asio_coroutine_awaiting_scopekit() {
  const auto ex = co_await asio::this_coro::executor;
  const int a = co_await scopekit::asio_run(ex, count_after_sleep(20), asio::use_awaitable);
  const int b = co_await scopekit::asio_run(ex, count_after_sleep(22), asio::use_awaitable);
  co_return a + b;
}

TEST_P(AsioInterop, UseAwaitableReturnsTheValueToAnAsioCoroutine) {
  auto result = asio::co_spawn(executor(), asio_coroutine_awaiting_scopekit(), asio::use_future);
  drive();
  EXPECT_EQ(result.get(), 42);
}

asio::awaitable<void> asio_coroutine_awaiting_a_failure() {
  co_await scopekit::asio_run(co_await asio::this_coro::executor, fail_after_sleep(),
                              asio::use_awaitable);
}

TEST_P(AsioInterop, UseAwaitableRethrowsTheTasksExceptionInTheAsioCoroutine) {
  auto result = asio::co_spawn(executor(), asio_coroutine_awaiting_a_failure(), asio::use_future);
  drive();
  EXPECT_THROW(result.get(), std::out_of_range);
}

asio::awaitable<bool> echo_raced_against_a_timer() {
  using namespace asio::experimental::awaitable_operators;
  const auto ex = co_await asio::this_coro::executor;
  asio::steady_timer short_timer{ex, 10ms};
  // The session never ends by itself; the timer wins and `||` emits terminal cancellation on
  // asio_run's slot, which stops the scopekit task.
  auto winner = co_await (scopekit::asio_run(ex, echo_session(ex, client_ends::waiting_for_ever),
                                             asio::use_awaitable) ||
                          short_timer.async_wait(asio::use_awaitable));
  co_return winner.index() == 1;
}

TEST_P(AsioInterop, AsioCancellationStopsTheTaskAndClosesEverything) {
  auto timer_won = asio::co_spawn(executor(), echo_raced_against_a_timer(), asio::use_future);
  drive();
  EXPECT_TRUE(timer_won.get());
}

#endif  // ASIO_HAS_CO_AWAIT

TEST_P(AsioInterop, ACancellationSignalBecomesAStoppedError) {
  asio::cancellation_signal cancel;
  std::promise<std::exception_ptr> outcome;
  auto session = echo_session(executor(), client_ends::waiting_for_ever);
  scopekit::asio_run(executor(), std::move(session),
                     asio::bind_cancellation_slot(cancel.slot(), [&outcome](std::exception_ptr e, const std::string&) {
                       outcome.set_value(std::move(e));
                     }));
  // Emitted on the executor, as Asio requires; the task may or may not have begun to wait.
  asio::post(executor(), [&cancel] { cancel.emit(asio::cancellation_type::terminal); });
  drive();
  const std::exception_ptr error = outcome.get_future().get();
  EXPECT_THROW(std::rethrow_exception(error), scopekit::stopped_error);
}

TEST_P(AsioInterop, DetachedRunsToTheEnd) {
  std::promise<int> seen;
  auto report = [](std::promise<int>& to) -> task<> {
    to.set_value(co_await count_after_sleep(5));
  };
  scopekit::asio_run(executor(), report(seen), asio::detached);
  drive();
  EXPECT_EQ(seen.get_future().get(), 5);
}

// ---- asio_executor's timer contract --------------------------------------------------------------
struct counted_timer : scopekit::timer_node {
  std::atomic<int>* fired = nullptr;
};

TEST_P(AsioInterop, EveryTimerEitherFiresOrIsCancelledNeverBoth) {
  // Due timers cancelled at once, while the executor's threads fire them: for each one exactly
  // one of "fire ran" and "cancel returned true" holds (the executor.hpp contract).
  constexpr int timers = 2000;
  scopekit::asio_executor exec{executor()};
  std::vector<counted_timer> nodes(timers);
  std::atomic<int> fired{0};
  int cancelled = 0;
  for (counted_timer& node : nodes) {
    node.deadline = scopekit::timer_node::clock::now();
    node.fired = &fired;
    node.fire = [](scopekit::timer_node& self) noexcept {
      static_cast<counted_timer&>(self).fired->fetch_add(1);
    };
    exec.schedule(node);
  }
  for (counted_timer& node : nodes) {
    cancelled += exec.cancel(node) ? 1 : 0;
  }
  drive();  // the io_context fires what was not cancelled; a pool fires by itself
  if (pool_) {
    pool_->join();  // every handler has run
  }
  EXPECT_EQ(fired.load() + cancelled, timers);
}

// ---- a stop racing the completion ------------------------------------------------------------------
task<> wait_for_a_due_timer(asio::any_io_executor ex, std::atomic<int>& resumed) {
  asio::steady_timer now{ex, 0s};  // completes at once, on any thread of the executor
  try {
    co_await now.async_wait(use_task);
  } catch (const scopekit::stopped_error&) {
  }
  resumed.fetch_add(1);
}

task<> stop_racing_a_timer(asio::any_io_executor ex, std::atomic<int>& resumed) {
  auto body = [ex, &resumed](async_scope& scope) -> task<> {
    scope.spawn(wait_for_a_due_timer(ex, resumed));
    scope.request_stop();  // races with the timer's completion
    co_return;
  };
  try {
    co_await async_scope::run(body);
  } catch (const scopekit::stopped_error&) {
  }
}

TEST_P(AsioInterop, AStopRacingTheCompletionResumesTheCoroutineOnce) {
  constexpr int rounds = 500;
  std::atomic<int> resumed{0};
  for (int i = 0; i < rounds; ++i) {
    run(stop_racing_a_timer(executor(), resumed));
  }
  EXPECT_EQ(resumed.load(), rounds);  // each wait resumed exactly once, whichever came first
}

}  // namespace
