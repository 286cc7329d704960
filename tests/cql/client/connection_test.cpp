// Tests for scopekit/cql/client/connection.hpp: connecting (refused, unresolvable, a server without
// v4, a server that says nothing), many requests multiplexed over stream ids from several
// coroutines, responses out of order, pending(), close(), and the failures that close a connection
// (a malformed frame, the server hanging up). Against the embedded server and its fault injection,
// or a fake listener; every wait is bounded (client_support.hpp).
#include "scopekit/cql/client/connection.hpp"
#include "scopekit/cql/client/exceptions.hpp"
#include "scopekit/cql/client/session.hpp"

#include "support/cql/client_support.hpp"

#include "scopekit/async_scope.hpp"
#include "scopekit/deadline.hpp"
#include "scopekit/stopped_error.hpp"

#include <gtest/gtest.h>

#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

#include <chrono>
#include <cstddef>
#include <cstdint>
#include <memory>
#include <string>
#include <string_view>
#include <type_traits>
#include <vector>

namespace scopekit::cql::test {
namespace {

static_assert(!std::is_copy_constructible_v<connection>);
static_assert(!std::is_move_constructible_v<connection>);
static_assert(!std::is_move_constructible_v<response_future>);

/// What `f` throws as E (its what()), or a failure if it throws nothing.
template <class E, class F>
std::string message_of(F f) {
  try {
    f();
  } catch (const E& e) {
    return e.what();
  }
  ADD_FAILURE() << "nothing was thrown";
  return {};
}

bool contains(std::string_view text, std::string_view part) {
  return text.find(part) != std::string_view::npos;
}

/// A TCP port on 127.0.0.1 that is bound but not listening: a connect to it is refused.
class refused_port {
public:
  refused_port() : fd_(::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0)) {
    sockaddr_in address{};
    address.sin_family = AF_INET;
    address.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    // NOLINTNEXTLINE(cppcoreguidelines-pro-type-reinterpret-cast): the sockets API
    auto* generic = reinterpret_cast<sockaddr*>(&address);
    socklen_t size = sizeof address;
    if (fd_ < 0 || ::bind(fd_, generic, size) != 0 || ::getsockname(fd_, generic, &size) != 0) {
      ADD_FAILURE() << "cannot bind a port";
    }
    port_ = ntohs(address.sin_port);
  }
  refused_port(const refused_port&) = delete;
  refused_port& operator=(const refused_port&) = delete;
  refused_port(refused_port&&) = delete;
  refused_port& operator=(refused_port&&) = delete;
  ~refused_port() {
    if (fd_ >= 0) {
      ::close(fd_);
    }
  }
  std::uint16_t port() const noexcept { return port_; }

private:
  int fd_;
  std::uint16_t port_ = 0;
};

/// The name column of the only row of `r`, or a failure.
std::string name_of(const response_result& r) {
  const rows_result rows = rows_of(r);
  if (rows.row_count() != 1) {
    ADD_FAILURE() << rows.row_count() << " rows instead of 1";
    return {};
  }
  return std::string(decode_text(rows.cell(0, 1)));
}

std::string name_of(const response& r) {
  return name_of(response_result{r, nullptr});
}

constexpr std::int32_t stream_ids = 32768;  // v4: ids 0 to 32767

class CqlConnection : public CqlClientTest {
protected:
  std::shared_ptr<connection> connect_now() {
    return run_bounded(connection::connect(connection_settings()));
  }

  /// Takes every stream id of `c` with requests the server never answers and that never time
  /// out; returns their futures.
  std::vector<std::shared_ptr<response_future>> hold_every_stream_id(connection& c) {
    server_.inject(fault{
        .what = fault::action::stall, .statement_contains = "WHERE id = 31", .times = stream_ids});
    std::vector<std::shared_ptr<response_future>> stalled;
    stalled.reserve(static_cast<std::size_t>(stream_ids));
    for (std::int32_t i = 0; i < stream_ids; ++i) {
      stalled.push_back(c.send(demo_row_query(31), 0ms));
    }
    return stalled;
  }
};

// ---- Connecting ----------------------------------------------------------------------------

TEST_F(CqlConnection, ConnectsAndNamesItsPeer) {
  const auto c = connect_now();
  EXPECT_TRUE(c->is_open());
  EXPECT_EQ(c->pending(), 0U);
  EXPECT_EQ(c->peer(), "127.0.0.1:" + std::to_string(server_.port()));
  EXPECT_EQ(server_.connection_count(), 1U);
  c->close();
  EXPECT_FALSE(c->is_open());
}

TEST_F(CqlConnection, AClosedPortIsAConnectionErrorAtOnce) {
  const refused_port closed;
  connection_options o;
  o.port = closed.port();
  o.connect_timeout = 20s;
  const auto start = std::chrono::steady_clock::now();
  const std::string message =
      message_of<connection_error>([&] { static_cast<void>(run_bounded(connection::connect(o))); });
  EXPECT_LT(std::chrono::steady_clock::now() - start, 10s);  // refused, not timed out
  EXPECT_TRUE(contains(message, "cannot connect to 127.0.0.1:" + std::to_string(closed.port())))
      << message;
}

TEST_F(CqlConnection, AnUnresolvableHostIsAConnectionError) {
  connection_options o;
  o.host = "no-such-host.invalid";  // RFC 2606: never resolves
  o.port = server_.port();
  const std::string message =
      message_of<connection_error>([&] { static_cast<void>(run_bounded(connection::connect(o))); });
  EXPECT_TRUE(contains(message, "cannot resolve no-such-host.invalid")) << message;
}

TEST_F(CqlConnection, AServerWithoutV4IsRefusedWithAMessageNamingV4) {
  const fake_listener v5_only{fake_listener::behaviour::answer_v5_error};
  connection_options o;
  o.port = v5_only.port();
  o.connect_timeout = 10s;
  const std::string message =
      message_of<connection_error>([&] { static_cast<void>(run_bounded(connection::connect(o))); });
  EXPECT_TRUE(contains(message, fake_listener::v5_message)) << message;  // the server's reason
  EXPECT_TRUE(contains(message, "v4")) << message;       // and what the client speaks
  EXPECT_TRUE(contains(message, "OPTIONS")) << message;  // refused at the first step
}

TEST_F(CqlConnection, AServerThatHangsUpDuringTheHandshakeIsAConnectionError) {
  const fake_listener hangs_up{fake_listener::behaviour::close_on_request};
  connection_options o;
  o.port = hangs_up.port();
  o.connect_timeout = 10s;
  const std::string message =
      message_of<connection_error>([&] { static_cast<void>(run_bounded(connection::connect(o))); });
  EXPECT_TRUE(contains(message, "handshake with 127.0.0.1:" + std::to_string(hangs_up.port())))
      << message;
}

TEST_F(CqlConnection, ASilentServerTimesOutAfterTheConnectTimeout) {
  const fake_listener silent{fake_listener::behaviour::silent};
  connection_options o;
  o.port = silent.port();
  o.connect_timeout = 200ms;
  const auto start = std::chrono::steady_clock::now();
  const std::string message =
      message_of<connection_error>([&] { static_cast<void>(run_bounded(connection::connect(o))); });
  const auto elapsed = std::chrono::steady_clock::now() - start;
  EXPECT_TRUE(contains(message, "timed out")) << message;
  EXPECT_GE(elapsed, 190ms);  // the handshake waited for the timeout...
  EXPECT_LT(elapsed, 10s);    // ...and no longer than a generous bound of it
}

// ---- Multiplexing --------------------------------------------------------------------------

/// Asks for rows first .. first + count - 1 one after another, checking each answer.
task<void> ask_rows(std::shared_ptr<connection> c, std::int64_t first, std::int64_t count,
                    std::int64_t& answered) {
  for (std::int64_t id = first; id < first + count; ++id) {
    const response r = co_await c->request(demo_row_query(id));
    EXPECT_EQ(name_of(r), "row-" + std::to_string(id));
    ++answered;
  }
}

TEST_F(CqlConnection, ManyCoroutinesShareOneConnection) {
  const auto c = connect_now();
  constexpr std::int64_t children = 8;
  constexpr std::int64_t each = 60;
  std::int64_t answered = 0;  // the run_loop runs one coroutine at a time
  run_bounded([&]() -> task<void> {
    co_await async_scope::run([&](async_scope& scope) -> task<void> {
      for (std::int64_t k = 0; k < children; ++k) {
        scope.spawn(ask_rows(c, k * each, each, answered));
      }
      co_return;
    });
  }());
  EXPECT_EQ(answered, children * each);
  EXPECT_EQ(c->pending(), 0U);
  EXPECT_EQ(server_.connection_count(), 1U);  // all of it on one connection
}

TEST_F(CqlConnection, EachResponseCompletesTheFutureOfItsOwnRequest) {
  const auto c = connect_now();
  std::vector<std::shared_ptr<response_future>> futures;
  futures.reserve(500);
  for (std::int64_t id = 0; id < 500; ++id) {
    futures.push_back(c->send(demo_row_query(id)));  // all in flight at once
  }
  for (std::size_t id = 0; id < futures.size(); ++id) {
    EXPECT_EQ(name_of(wait_result(*futures[id])), "row-" + std::to_string(id));
  }
  EXPECT_EQ(c->pending(), 0U);
}

/// Requests row `id`, then records the id and what was still pending when it completed.
task<void> ask_and_record(std::shared_ptr<connection> c, std::int64_t id,
                          std::vector<std::int64_t>& order, std::vector<std::size_t>& pending) {
  const response r = co_await c->request(demo_row_query(id));
  EXPECT_EQ(name_of(r), "row-" + std::to_string(id));
  order.push_back(id);
  pending.push_back(c->pending());
}

TEST_F(CqlConnection, ALaterResponseOvertakesADelayedOne) {
  server_.inject(fault{.what = fault::action::delay,
                       .statement_contains = "WHERE id = 7",
                       .times = 1,
                       .delay = 500ms});
  const auto c = connect_now();
  std::vector<std::int64_t> order;
  std::vector<std::size_t> pending;
  run_bounded([&]() -> task<void> {
    co_await async_scope::run([&](async_scope& scope) -> task<void> {
      scope.spawn(ask_and_record(c, 7, order, pending));  // sent first, answered 500 ms late
      scope.spawn(ask_and_record(c, 8, order, pending));
      co_return;
    });
  }());
  EXPECT_EQ(order, (std::vector<std::int64_t>{8, 7}));
  EXPECT_EQ(pending, (std::vector<std::size_t>{1, 0}));  // 7 was still in flight when 8 completed
  EXPECT_EQ(c->pending(), 0U);
}

TEST_F(CqlConnection, PendingCountsRequestsUntilTheirResponseArrives) {
  server_.inject(fault{.what = fault::action::stall, .statement_contains = "WHERE id = 9"});
  const auto c = connect_now();
  const auto stalled = c->send(demo_row_query(9));
  EXPECT_EQ(c->pending(), 1U);
  const auto answered = c->send(demo_row_query(10));
  EXPECT_EQ(name_of(wait_result(*answered)), "row-10");
  EXPECT_EQ(c->pending(), 1U);  // the stalled one
  EXPECT_FALSE(stalled->ready());
  c->close();
  EXPECT_EQ(c->pending(), 0U);
}

// ---- Closing and failures ------------------------------------------------------------------

TEST_F(CqlConnection, CloseFailsPendingRequestsWithConnectionError) {
  server_.inject(fault{.what = fault::action::stall, .statement_contains = "WHERE id = 9"});
  const auto c = connect_now();
  const auto first = c->send(demo_row_query(9));
  const auto second = c->send(demo_row_query(9));
  c->close();  // joins the I/O thread: the futures are completed when it returns
  ASSERT_TRUE(first->ready());
  ASSERT_TRUE(second->ready());
  EXPECT_THROW(rethrow_error(wait_result(*first)), connection_error);
  EXPECT_THROW(rethrow_error(wait_result(*second)), connection_error);
  EXPECT_EQ(c->pending(), 0U);
  EXPECT_FALSE(c->is_open());
}

TEST_F(CqlConnection, CloseFailsAnAwaitingCoroutineWithConnectionError) {
  server_.inject(fault{.what = fault::action::stall, .statement_contains = "WHERE id = 9"});
  const auto c = connect_now();
  bool failed = false;
  run_bounded([&]() -> task<void> {
    co_await async_scope::run([&](async_scope& scope) -> task<void> {
      scope.spawn([](std::shared_ptr<connection> conn, bool& out) -> task<void> {
        try {
          co_await conn->request(demo_row_query(9));
        } catch (const connection_error&) {
          out = true;
        }
      }(c, failed));
      // The child runs once the body suspends: it has sent its request by then.
      EXPECT_TRUE(co_await poll_until([&] { return c->pending() == 1; }));
      c->close();
    });
  }());
  EXPECT_TRUE(failed);
}

TEST_F(CqlConnection, SendingAfterCloseIsAConnectionError) {
  const auto c = connect_now();
  c->close();
  c->close();  // idempotent
  const auto f = c->send(demo_row_query(1));
  EXPECT_TRUE(f->ready());  // failed at once, nothing was sent
  EXPECT_THROW(rethrow_error(wait_result(*f)), connection_error);
  EXPECT_THROW(run_bounded(c->request(demo_row_query(1))), connection_error);
  EXPECT_EQ(c->pending(), 0U);
}

TEST_F(CqlConnection, AMalformedFrameFailsEveryPendingRequestAndClosesOnlyThatConnection) {
  server_.inject(fault{.what = fault::action::stall, .statement_contains = "WHERE id = 11"});
  server_.inject(
      fault{.what = fault::action::malformed_frame, .statement_contains = "WHERE id = 12"});
  const auto broken = connect_now();
  const auto other = connect_now();
  const auto stalled_a = broken->send(demo_row_query(11));
  const auto stalled_b = broken->send(demo_row_query(11));
  const auto malformed = broken->send(demo_row_query(12));
  EXPECT_THROW(rethrow_error(wait_result(*malformed)), protocol_error);
  EXPECT_THROW(rethrow_error(wait_result(*stalled_a)), protocol_error);
  EXPECT_THROW(rethrow_error(wait_result(*stalled_b)), protocol_error);
  EXPECT_FALSE(broken->is_open());
  EXPECT_EQ(broken->pending(), 0U);
  EXPECT_THROW(rethrow_error(wait_result(*broken->send(demo_row_query(1)))), std::exception);

  EXPECT_TRUE(other->is_open());
  EXPECT_EQ(name_of(wait_result(*other->send(demo_row_query(13)))), "row-13");
  EXPECT_EQ(other->pending(), 0U);
}

TEST_F(CqlConnection, TheServerHangingUpFailsPendingRequestsWithConnectionError) {
  server_.inject(fault{.what = fault::action::stall, .statement_contains = "WHERE id = 21"});
  server_.inject(
      fault{.what = fault::action::close_connection, .statement_contains = "WHERE id = 22"});
  const auto lost = connect_now();
  const auto other = connect_now();
  const auto stalled = lost->send(demo_row_query(21));
  const auto closing = lost->send(demo_row_query(22));
  EXPECT_THROW(rethrow_error(wait_result(*closing)), connection_error);
  EXPECT_THROW(rethrow_error(wait_result(*stalled)), connection_error);
  EXPECT_FALSE(lost->is_open());
  EXPECT_EQ(lost->pending(), 0U);
  EXPECT_THROW(rethrow_error(wait_result(*lost->send(demo_row_query(1)))), connection_error);
  EXPECT_EQ(name_of(wait_result(*other->send(demo_row_query(23)))), "row-23");
}

TEST_F(CqlConnection, AStopAbandonsTheRequestAndTheConnectionGoesOn) {
  server_.inject(fault{.what = fault::action::stall, .statement_contains = "WHERE id = 9"});
  const auto c = connect_now();
  run_bounded([&]() -> task<void> {
    bool timed_out = false;
    try {
      co_await with_timeout(100ms, c->request(demo_row_query(9)));
    } catch (const timeout_error&) {
      timed_out = true;  // the request saw its stop token
    }
    EXPECT_TRUE(timed_out);
    EXPECT_EQ(c->pending(), 1U);  // still in flight: its id stays taken
    const response r = co_await c->request(demo_row_query(5));
    EXPECT_EQ(name_of(r), "row-5");
  }());
  EXPECT_TRUE(c->is_open());
}

// ---- Request timeouts ----------------------------------------------------------------------

TEST(CqlConnectionOptions, NoRequestWaitsForEverByDefault) {
  EXPECT_EQ(connection_options{}.request_timeout, 12s);  // as the DataStax C++ driver
  EXPECT_EQ(session_options{}.request_timeout, 12s);
}

TEST_F(CqlConnection, ARequestTheServerNeverAnswersTimesOutNamingTheNodeAndTheStatement) {
  server_.inject(fault{.what = fault::action::stall, .statement_contains = "WHERE id = 9"});
  connection_options o = connection_settings();
  o.request_timeout = 200ms;
  const auto c = run_bounded(connection::connect(o));
  EXPECT_EQ(c->request_timeout(), 200ms);
  run_bounded([&]() -> task<void> {
    std::string message;
    try {
      co_await c->request(demo_row_query(9));
      ADD_FAILURE() << "a stalled request was answered";
    } catch (const operation_timed_out& e) {
      message = e.what();
      EXPECT_EQ(e.node(), c->peer());
      EXPECT_EQ(e.timeout(), 200ms);
    }
    EXPECT_EQ(message,
              "no answer from " + c->peer() +
                  " within 200 ms to QUERY \"SELECT id, name FROM demo.rows WHERE id = 9\"");
    EXPECT_EQ(c->pending(), 1U);  // its stream id stays taken: the answer may still come
    const response r = co_await c->request(demo_row_query(5));  // the connection goes on
    EXPECT_EQ(name_of(r), "row-5");
  }());
  EXPECT_TRUE(c->is_open());
}

TEST_F(CqlConnection, ATimeoutGivenToSendOverridesTheConnections) {
  server_.inject(fault{.what = fault::action::stall, .statement_contains = "WHERE id = 9"});
  server_.inject(
      fault{.what = fault::action::delay, .statement_contains = "WHERE id = 8", .delay = 300ms});
  connection_options o = connection_settings();
  o.request_timeout = 50ms;
  const auto c = run_bounded(connection::connect(o));
  const auto patient = c->send(demo_row_query(8), 10s);  // answered 300 ms late: in time
  const auto hasty = c->send(demo_row_query(9), 100ms);
  EXPECT_EQ(name_of(wait_result(*patient)), "row-8");
  const std::string message =
      message_of<operation_timed_out>([&] { rethrow_error(wait_result(*hasty)); });
  EXPECT_TRUE(contains(message, " within 100 ms to QUERY (stream ")) << message;
}

TEST_F(CqlConnection, ARequestWaitingForAStreamIdTimesOutToo) {
  const auto c = connect_now();
  const std::vector<std::shared_ptr<response_future>> stalled = hold_every_stream_id(*c);
  const auto waiting = c->send(demo_row_query(1), 100ms);
  const std::string message =
      message_of<operation_timed_out>([&] { rethrow_error(wait_result(*waiting)); });
  EXPECT_TRUE(contains(message, "to QUERY (waiting for a free stream id)")) << message;
  EXPECT_EQ(c->pending(), static_cast<std::size_t>(stream_ids));  // it is no longer counted
  EXPECT_FALSE(stalled.back()->ready());                          // "0 ms": no limit
  c->close();
}

// ---- Stream ids ----------------------------------------------------------------------------

TEST_F(CqlConnection, RequestsBeyondTheLastStreamIdWaitForOneToBeFreed) {
  // Every id taken: 32767 stalled requests and one answered 500 ms late.
  server_.inject(fault{.what = fault::action::stall,
                       .statement_contains = "WHERE id = 31",
                       .times = stream_ids - 1});
  server_.inject(fault{.what = fault::action::delay,
                       .statement_contains = "WHERE id = 32",
                       .times = 1,
                       .delay = 500ms});
  const auto c = connect_now();
  std::vector<std::shared_ptr<response_future>> stalled;
  stalled.reserve(static_cast<std::size_t>(stream_ids) - 1);
  for (std::int32_t i = 0; i < stream_ids - 1; ++i) {
    stalled.push_back(c->send(demo_row_query(31)));
  }
  const auto delayed = c->send(demo_row_query(32));
  const auto first_waiting = c->send(demo_row_query(33));
  const auto second_waiting = c->send(demo_row_query(34));
  EXPECT_EQ(c->pending(), static_cast<std::size_t>(stream_ids) + 2);
  EXPECT_FALSE(first_waiting->ready());

  // The delayed response frees an id, which the waiting requests then use one after the other.
  EXPECT_EQ(name_of(wait_result(*first_waiting)), "row-33");
  EXPECT_EQ(name_of(wait_result(*second_waiting)), "row-34");
  EXPECT_TRUE(delayed->ready());  // it had to be answered first
  EXPECT_EQ(name_of(wait_result(*delayed)), "row-32");
  EXPECT_EQ(c->pending(), static_cast<std::size_t>(stream_ids) - 1);

  c->close();
  std::size_t failed = 0;
  for (const auto& f : stalled) {
    failed += f->ready() && wait_result(*f).error != nullptr ? 1 : 0;
  }
  EXPECT_EQ(failed, stalled.size());
  EXPECT_EQ(c->pending(), 0U);
}

TEST_F(CqlConnection, CloseFailsRequestsStillWaitingForAStreamId) {
  const auto c = connect_now();
  const std::vector<std::shared_ptr<response_future>> stalled = hold_every_stream_id(*c);
  const auto waiting = c->send(demo_row_query(1));
  EXPECT_EQ(c->pending(), static_cast<std::size_t>(stream_ids) + 1);
  c->close();
  ASSERT_TRUE(waiting->ready());
  EXPECT_THROW(rethrow_error(wait_result(*waiting)), connection_error);
  EXPECT_THROW(rethrow_error(wait_result(*stalled.back())), connection_error);
  EXPECT_EQ(c->pending(), 0U);
}

}  // namespace
}  // namespace scopekit::cql::test
