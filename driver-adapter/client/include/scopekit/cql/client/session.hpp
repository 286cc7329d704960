// scopekit/cql/client/session.hpp - the coroutine API of the CQL client: connect, execute, prepare,
// execute_stream, close.
//
// A session owns one connection (connection.hpp: one I/O thread multiplexing every request over
// stream ids). Every member is a coroutine that resumes its caller on the caller's executor;
// several may be in flight at once, from several coroutines. Server ERRORs are thrown as the
// server_error subclass of their code (exceptions.hpp). A session is async_closeable: enter it
// into an async_scope or async_exit_stack and it is closed on every exit path.
//
//   scopekit::cql::session_options options;
//   options.port = port;
//   auto& db = co_await scope.enter(scopekit::cql::session::connect(options));
//   co_await db.execute("INSERT INTO ks.t (id, name) VALUES (?, ?)", 1, "one");
//   auto& rows = co_await scope.enter(db.execute_stream("SELECT * FROM ks.t"));
//   while (auto row = co_await rows.next()) use(row->get<std::string_view>("name"));
#pragma once

#include "scopekit/cql/client/connection.hpp"
#include "scopekit/cql/client/row.hpp"
#include "scopekit/cql/client/row_stream.hpp"
#include "scopekit/cql/client/statement.hpp"
#include "scopekit/task.hpp"

#include <cstddef>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace scopekit::cql {

/// Where to connect, and the session's defaults.
struct session_options {
  // Not an aggregate on purpose: GCC 12 destroys an aggregate temporary twice when it is an
  // argument inside a co_await expression (`co_await f(options_type{...})`), a double free for
  // members such as std::string. A user-declared constructor makes every use safe.
  session_options() = default;

  std::string host = "127.0.0.1";
  std::uint16_t port = 9042;
  std::chrono::milliseconds connect_timeout{5000};
  /// USE'd after connecting when not empty.
  std::string keyspace;
  /// The longest wait for the answer to any request of the session (execute, prepare, each
  /// page of a stream whose page_timeout is not set): operation_timed_out past it, naming the
  /// node and the request. 12 s by default; zero or negative: no limit.
  std::chrono::milliseconds request_timeout{12000};
  /// For a server that requires authentication (connection_options::user and password).
  std::string user;
  std::string password;
};

/// The result of execute(): the rows of one page (none for a statement without rows), and
/// what else the server said.
class result {
public:
  result() = default;
  explicit result(response_message message);

  /// The rows (an empty page for a statement without rows).
  const rows_result& rows() const noexcept { return rows_; }
  std::size_t size() const noexcept { return rows_.row_count(); }
  bool empty() const noexcept { return rows_.row_count() == 0; }
  /// Row `i`; column_error if out of range.
  cql::row row(std::size_t i) const;
  /// The first row, or nullopt.
  std::optional<cql::row> first() const;
  /// Set when the server has more pages (execute_stream follows them for you).
  const std::optional<std::vector<std::byte>>& paging_state() const noexcept {
    return rows_.metadata().paging_state;
  }
  /// The message as received (Void, Set_keyspace, Schema_change); for Rows, an empty
  /// rows_result: the rows are in rows().
  const response_message& message() const noexcept { return message_; }

private:
  response_message message_;
  rows_result rows_;
};

/// A connected session. Move-only; close() (or destruction) closes the connection. A moved-from
/// session may only be destroyed or assigned to (its members throw std::logic_error).
class session {
public:
  /// Connects, and USEs options.keyspace if set. Throws connection_error, or the server_error
  /// of USE.
  static task<session> connect(session_options options);

  session(session&&) noexcept = default;
  session& operator=(session&&) noexcept = default;
  session(const session&) = delete;
  session& operator=(const session&) = delete;
  /// Closes the connection (without waiting for anything but the I/O thread's exit).
  ~session();

  /// Executes one statement and returns its result, unpaged (no page size is sent): the whole
  /// result comes in one response, so use execute_stream() for anything large.
  task<result> execute(statement s);
  task<result> execute(bound_statement s);
  /// execute(statement{query, {bind(values)...}}); the values are converted before returning
  /// (std::invalid_argument naming the position of one that does not convert).
  template <class... Args>
  task<result> execute(std::string_view query, const Args&... values) {
    std::vector<query_value> bound;
    bound.reserve(sizeof...(Args));
    [[maybe_unused]] std::size_t position = 0;
    (bound.push_back(detail::bind_one(nullptr, values, position++)), ...);
    return execute(statement{std::string(query), std::move(bound)});
  }

  /// PREPAREs `query`.
  task<prepared_statement> prepare(std::string query);

  /// Sends the first page request and returns the stream at once; its errors (even sending
  /// errors) come out of the first next(). See row_stream.hpp. std::invalid_argument for
  /// invalid options.
  task<row_stream> execute_stream(statement s, stream_options options = {});
  task<row_stream> execute_stream(bound_statement s, stream_options options = {});
  task<row_stream> execute_stream(std::string query, stream_options options = {}) {
    return execute_stream(statement{std::move(query), {}}, std::move(options));
  }

  /// Closes the connection: pending requests and open streams fail with connection_error.
  /// Idempotent.
  task<void> close();

  /// The connection, shared with the session's streams.
  const std::shared_ptr<cql::connection>& connection() const noexcept { return connection_; }

private:
  explicit session(std::shared_ptr<cql::connection> c) noexcept : connection_(std::move(c)) {}
  task<result> run(request_message message);
  void check_connected() const;

  std::shared_ptr<cql::connection> connection_;
};

}  // namespace scopekit::cql
