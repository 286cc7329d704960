// tests/support/cql/client_support.hpp - what the tests of the CQL client (session, connection,
// row_stream, row, statement) share:
//
// - CqlClientTest, a fixture with an embedded server (scopekit/cql/server/server.hpp) holding the
//   synthetic table demo.rows (demo_rows rows), whose TearDown checks that no row_stream state
//   outlived the test;
// - run_bounded(), which drives a test's coroutine with sync_wait under a time limit: past it the
//   coroutine's stop token is requested and the test fails, and if even that does not end it the
//   process aborts, so that no test can hang;
// - poll_until(), a condition polled from a coroutine with a bound (sleep_for is only the bound
//   of the wait there, never the synchronisation a test relies on);
// - round_trip(), a request whose completion proves that every response to a request sent
//   earlier on the same connection has been handled (see its comment);
// - wait_result(), a response_future's outcome, waited for with a bound;
// - fake_listener, a TCP listener that misbehaves during the handshake.
#pragma once

#include "scopekit/cql/client/connection.hpp"
#include "scopekit/cql/client/exceptions.hpp"
#include "scopekit/cql/protocol/frame.hpp"
#include "scopekit/cql/protocol/response.hpp"
#include "scopekit/cql/client/row_stream.hpp"
#include "scopekit/cql/server/server.hpp"
#include "scopekit/cql/client/session.hpp"
#include "scopekit/sleep.hpp"
#include "scopekit/sync_wait.hpp"
#include "scopekit/task.hpp"

#include <gtest/gtest.h>

#include <arpa/inet.h>
#include <netinet/in.h>
#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <array>
#include <atomic>
#include <chrono>
#include <condition_variable>
#include <cstddef>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <future>
#include <memory>
#include <mutex>
#include <stop_token>
#include <string>
#include <thread>
#include <utility>
#include <variant>
#include <vector>

namespace scopekit::cql::test {

using namespace std::chrono_literals;

/// Rows of the synthetic table demo.rows that every CqlClientTest server has.
inline constexpr std::int64_t demo_rows = 2'500;

/// Requests stop on a token once `limit` has passed, unless destroyed first; aborts the process
/// if, 10 s after that, it still has not been destroyed (the work ignored the stop).
class watchdog {
public:
  explicit watchdog(std::chrono::seconds limit) : thread_([this, limit] { watch(limit); }) {}
  watchdog(const watchdog&) = delete;
  watchdog& operator=(const watchdog&) = delete;
  watchdog(watchdog&&) = delete;
  watchdog& operator=(watchdog&&) = delete;
  ~watchdog() {
    {
      const std::lock_guard lock{mutex_};
      done_ = true;
    }
    wake_.notify_one();
    thread_.join();
  }

  std::stop_token token() const noexcept { return stop_.get_token(); }
  bool fired() const noexcept { return stop_.stop_requested(); }

private:
  void watch(std::chrono::seconds limit) {
    std::unique_lock lock{mutex_};
    if (wake_.wait_for(lock, limit, [this] { return done_; })) {
      return;
    }
    lock.unlock();
    stop_.request_stop();
    lock.lock();
    if (wake_.wait_for(lock, 10s, [this] { return done_; })) {
      return;
    }
    std::fputs(
        "scopekit cql client test: the test's coroutine ignored its stop request and "
        "hangs; aborting\n",
        stderr);
    std::abort();
  }

  std::mutex mutex_;
  std::condition_variable wake_;
  bool done_ = false;
  std::stop_source stop_;
  std::thread thread_;  // last: started once the rest is built
};

/// sync_wait(work) with a stop token that is requested after `limit` (the test then fails).
template <class T>
T run_bounded(task<T> work, std::chrono::seconds limit = 60s) {
  watchdog dog{limit};
  struct report {
    explicit report(const watchdog& d) noexcept : dog(d) {}
    report(const report&) = delete;
    report& operator=(const report&) = delete;
    report(report&&) = delete;
    report& operator=(report&&) = delete;
    ~report() {
      if (dog.fired()) {
        ADD_FAILURE() << "the test's coroutine did not finish in time and was stopped";
      }
    }
    const watchdog& dog;
  } const check{dog};
  return sync_wait(std::move(work), dog.token());
}

/// Polls `condition` on the awaiting coroutine's executor until it holds or `limit` passes;
/// true if it holds.
template <class F>
task<bool> poll_until(F condition, std::chrono::milliseconds limit = 10s) {
  const auto deadline = std::chrono::steady_clock::now() + limit;
  while (!condition()) {
    if (std::chrono::steady_clock::now() >= deadline) {
      co_return false;
    }
    co_await sleep_for(1ms);
  }
  co_return true;
}

/// A statement no fault of these tests matches, answered with one row.
inline constexpr const char* marker_query = "SELECT cluster_name FROM system.local";

/// One request on `s`'s connection, answered at once. The server answers the requests of a
/// connection in the order they arrive (unless a fault delays or stalls one), and the client's
/// I/O thread hands each response completely to its callbacks before it reads the next. So
/// once this returns, every response to a request sent before it on that connection has been
/// handled, including the request the row_stream of a page sends from that callback.
inline task<void> round_trip(session& s) {
  const result r = co_await s.execute(marker_query);
  EXPECT_EQ(r.size(), 1U);
}

/// The outcome of `f`, waited for at most `limit` (a failure and an empty result past it).
inline response_result wait_result(response_future& f, std::chrono::seconds limit = 10s) {
  auto done = std::make_shared<std::promise<response_result>>();
  std::future<response_result> outcome = done->get_future();
  const callback_registration keep =
      f.on_complete([done](response_result& r) noexcept { done->set_value(r); });
  if (outcome.wait_for(limit) != std::future_status::ready) {
    ADD_FAILURE() << "no response within " << limit.count() << " s";
    return {};
  }
  return outcome.get();
}

/// Rethrows the error of `r` (so that EXPECT_THROW can name its type); nothing if it has none.
inline void rethrow_error(const response_result& r) {
  if (r.error) {
    std::rethrow_exception(r.error);
  }
}

/// The rows of a response (a failure and an empty page if it has none).
inline rows_result rows_of(const response_result& r) {
  if (!r.value) {
    ADD_FAILURE() << "the request failed instead of answering";
    return {};
  }
  if (const auto* rows = std::get_if<rows_result>(&r.value->message)) {
    return *rows;
  }
  ADD_FAILURE() << "the response holds no rows";
  return {};
}

/// A query for the row of demo.rows with this id (its name is "row-<id>").
inline query_request demo_row_query(std::int64_t id) {
  return query_request{"SELECT id, name FROM demo.rows WHERE id = " + std::to_string(id), {}};
}

/// The base of the client's test suites: a started server with demo.rows.
class CqlClientTest : public ::testing::Test {
protected:
  CqlClientTest() {
    server_.add_synthetic_table("demo", "rows", demo_rows);
    server_.start();
  }

  void TearDown() override {
    EXPECT_EQ(diagnostics::live_row_streams(), 0U) << "a row_stream's state outlived the test";
  }

  session_options options() const {
    session_options o;
    o.port = server_.port();
    return o;
  }

  connection_options connection_settings() const {
    connection_options o;
    o.port = server_.port();
    return o;
  }

  /// Creates ks.t (id int PRIMARY KEY, v text) holding ids 0 to rows - 1, v "v-<id>".
  static task<void> create_stored_table(session& s, std::int32_t rows) {
    co_await s.execute(
        "CREATE KEYSPACE IF NOT EXISTS ks WITH replication = {'class': 'SimpleStrategy', "
        "'replication_factor': 1}");
    co_await s.execute("CREATE TABLE ks.t (id int PRIMARY KEY, v text)");
    const prepared_statement insert = co_await s.prepare("INSERT INTO ks.t (id, v) VALUES (?, ?)");
    for (std::int32_t id = 0; id < rows; ++id) {
      co_await s.execute(insert.bind(id, "v-" + std::to_string(id)));
    }
  }

  server server_;
};

/// A TCP listener on 127.0.0.1 that does not speak CQL v4. Its thread answers (or not) each
/// connection it accepts, and stops when the listener is destroyed.
class fake_listener {
public:
  enum class behaviour : std::uint8_t {
    /// Answers the first frame with a v5 server's ERROR 0x000A (version byte 0x85), in which
    /// the server names only the version it supports: v5.
    answer_v5_error,
    /// Closes the connection once the first frame header has arrived.
    close_on_request,
    /// Never accepts: the kernel completes the TCP handshake, and nothing is ever said.
    silent,
  };

  /// The message of answer_v5_error's ERROR.
  static constexpr const char* v5_message =
      "Invalid or unsupported protocol version; supported versions are (5/v5)";

  explicit fake_listener(behaviour b) : behaviour_(b) {
    fd_ = ::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
    sockaddr_in address{};
    address.sin_family = AF_INET;
    address.sin_port = 0;
    address.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    // NOLINTNEXTLINE(cppcoreguidelines-pro-type-reinterpret-cast): the sockets API
    auto* generic = reinterpret_cast<sockaddr*>(&address);
    socklen_t size = sizeof address;
    if (fd_ < 0 || ::bind(fd_, generic, size) != 0 || ::listen(fd_, 8) != 0 ||
        ::getsockname(fd_, generic, &size) != 0) {
      ADD_FAILURE() << "fake_listener: cannot listen";
      return;
    }
    port_ = ntohs(address.sin_port);
    if (behaviour_ != behaviour::silent) {
      thread_ = std::thread([this] { serve(); });
    }
  }
  fake_listener(const fake_listener&) = delete;
  fake_listener& operator=(const fake_listener&) = delete;
  fake_listener(fake_listener&&) = delete;
  fake_listener& operator=(fake_listener&&) = delete;
  ~fake_listener() {
    stop_.store(true);
    if (thread_.joinable()) {
      thread_.join();
    }
    if (fd_ >= 0) {
      ::close(fd_);
    }
  }

  std::uint16_t port() const noexcept { return port_; }

private:
  // Polls with a short timeout, so that the destructor's stop is seen within 20 ms.
  bool wait_readable(int fd) const {
    while (!stop_.load()) {
      pollfd p{fd, POLLIN, 0};
      if (::poll(&p, 1, 20) > 0) {
        return true;
      }
    }
    return false;
  }

  void serve() {
    while (wait_readable(fd_)) {
      const int client = ::accept4(fd_, nullptr, nullptr, SOCK_CLOEXEC);
      if (client < 0) {
        continue;
      }
      answer(client);
      ::close(client);
    }
  }

  void answer(int client) const {
    std::array<std::byte, header_size> header{};
    std::size_t have = 0;
    while (have < header.size() && wait_readable(client)) {
      const ssize_t n = ::recv(client, header.data() + have, header.size() - have, 0);
      if (n <= 0) {
        return;
      }
      have += static_cast<std::size_t>(n);
    }
    if (have < header.size() || behaviour_ == behaviour::close_on_request) {
      return;
    }
    response r;
    r.stream = static_cast<std::int16_t>((std::to_integer<unsigned>(header[2]) << 8U) |
                                         std::to_integer<unsigned>(header[3]));
    r.message = error_response{error_code::protocol_error, v5_message, {}};
    std::vector<std::byte> out;
    byte_writer w{out};
    encode_response(w, r, 0x85);
    static_cast<void>(::send(client, out.data(), out.size(), MSG_NOSIGNAL));
    // Wait for the client to hang up (or for the destructor).
    std::array<std::byte, 256> sink{};
    while (wait_readable(client) && ::recv(client, sink.data(), sink.size(), 0) > 0) {
    }
  }

  behaviour behaviour_;
  int fd_ = -1;
  std::uint16_t port_ = 0;
  std::atomic<bool> stop_{false};
  std::thread thread_;
};

}  // namespace scopekit::cql::test
