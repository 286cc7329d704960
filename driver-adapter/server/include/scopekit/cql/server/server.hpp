// scopekit/cql/server/server.hpp - an embedded, in-memory CQL server speaking native protocol v4,
// for tests, examples and benchmarks that need a Cassandra and have none.
//
// start() binds a TCP listener (loopback and an ephemeral port by default) and serves each
// connection on a thread of its own until stop(), which the destructor calls. It answers
// OPTIONS, STARTUP, REGISTER, QUERY, PREPARE and EXECUTE: keyspaces and tables (CREATE, DROP,
// USE), INSERT, and SELECT with paging on stored tables, on synthetic tables of any size
// (add_synthetic_table: rows computed when read) and on the system tables drivers read when
// they connect (system.local, system.peers, system_schema.*, shaped as in Cassandra 3.11). Any
// other protocol version gets ERROR 0x000A naming the supported one; what it does not support
// gets ERROR 0x2000 / 0x2200 saying so. A malformed frame gets ERROR 0x000A and the connection
// is closed; the server itself keeps serving. server_options bounds what one client can make
// it spend (query size and nesting, rows per response, prepared statements, unsent responses,
// connections): past a limit the client gets an ERROR naming it. inject() makes it misbehave
// on purpose (delays, errors, dropped connections, empty pages, malformed frames, stalls) for
// tests.
// docs/reference/cql_server.md has the whole dialect.
//
//   scopekit::cql::server srv;          // 127.0.0.1, any free port
//   srv.start();                        // std::system_error if it cannot listen
//   connect_driver_to("127.0.0.1", srv.port());
//   srv.stop();                         // closes every connection, joins every thread
#pragma once

#include "scopekit/cql/protocol/error.hpp"

#include <chrono>
#include <cstddef>
#include <cstdint>
#include <memory>
#include <string>
#include <vector>

namespace scopekit::cql {

/// A user who may connect to a server that requires authentication.
struct credentials {
  std::string user;
  std::string password;
};

/// What a server (or one node of a cluster) has served since it was made: counted when a
/// request is decoded, a statement runs, a page of rows is written.
struct server_statistics {
  /// Request frames decoded (every opcode; an unparsable frame is not counted).
  std::uint64_t requests = 0;
  /// QUERY and EXECUTE requests.
  std::uint64_t statements = 0;
  /// Rows results of SELECTs (every page, empty ones included).
  std::uint64_t pages = 0;
  /// Rows in them.
  std::uint64_t rows = 0;
  /// AUTH_RESPONSEs refused (ERROR 0x0100).
  std::uint64_t authentication_failures = 0;
};

/// How a server listens.
struct server_options {
  /// A numeric IPv4 or IPv6 address ("127.0.0.1", "::1", "0.0.0.0").
  std::string bind_address = "127.0.0.1";
  /// The TCP port; 0 lets the system choose one (read it back with server::port()).
  std::uint16_t port = 0;
  /// The longest frame body accepted; a frame announcing more gets ERROR 0x000A and the
  /// connection is closed. The spec's cap (256 MB) by default.
  std::size_t max_frame_body = std::size_t{256} * 1024 * 1024;
  /// The longest statement text (QUERY, PREPARE) accepted, in bytes: a longer one gets ERROR
  /// 0x2200 (Invalid) without being parsed. 2 MiB by default. Parsing costs memory in
  /// proportion to what the text holds, at most about 50 times its size (a collection
  /// literal of one-digit numbers), so this also bounds what one statement costs. (Collection
  /// literals and types nest at most 32 deep whatever this limit: deeper gets ERROR 0x2000.)
  std::size_t max_query_bytes = std::size_t{2} * 1024 * 1024;
  /// The most rows one response holds. An unpaged SELECT (no page size, or one <= 0) that
  /// would return more gets ERROR 0x2200 (Invalid) telling the client to page; a paged one
  /// whose page size is larger gets pages of this many rows (with has_more_pages set while
  /// rows are left). 100,000 by default.
  std::int64_t max_result_rows = 100'000;
  /// Prepared statements kept, shared by every connection: preparing one more evicts the least
  /// recently prepared or executed one (as Cassandra's prepared cache does), and an EXECUTE
  /// of an evicted id gets ERROR 0x2500 (Unprepared), on which drivers prepare it again.
  /// 10,000 by default; at least 1.
  std::size_t max_prepared_statements = 10'000;
  /// Response bytes a connection may have waiting to be sent: beyond them the server answers
  /// no more of its requests, and reads no more of them, until the client has read its
  /// responses (backpressure: a client that never reads costs at most about this much). One
  /// response larger than this is still sent whole. 4 MiB by default.
  std::size_t max_pending_response_bytes = std::size_t{4} * 1024 * 1024;
  /// Connections served at once. A connection beyond them gets ERROR 0x1001 (Overloaded) on
  /// stream 0 and is closed at once. 1,024 by default.
  std::size_t max_connections = 1024;
  /// The users who may connect. Empty (the default): no authentication, STARTUP is answered
  /// READY. Otherwise STARTUP is answered AUTHENTICATE naming
  /// org.apache.cassandra.auth.PasswordAuthenticator, the client sends its user and password
  /// as SASL PLAIN in AUTH_RESPONSE, and gets AUTH_SUCCESS, or ERROR 0x0100 (bad credentials)
  /// with Cassandra's wording; until it has authenticated, every other request gets ERROR
  /// 0x000A, as in Cassandra. The server never logs or prints a password.
  std::vector<credentials> users;
  /// How many tokens (vnodes) the node owns on the Murmur3 ring, as system.local reports them.
  /// At least 1.
  std::size_t num_tokens = 16;
  /// The seed the node's tokens and host id are drawn from: the same seed, the same tokens.
  std::uint64_t token_seed = 0;
};

/// A misbehaviour the server shows on purpose. A fault applies to QUERY and EXECUTE requests
/// whose statement text (for EXECUTE, the prepared statement's) contains `statement_contains`,
/// asking for page `from_page` or a later one of their result (page 0 is the request without a
/// paging state; a SELECT's pages count from there, empty pages included).
struct fault {
  enum class action : std::uint8_t {
    /// Answer `delay` late. Later responses on the connection are not held back, so they
    /// overtake it (responses in another order than the requests).
    delay,
    /// Answer ERROR `error` with `message` (codes with extra fields get placeholder values:
    /// counts 0, write type SIMPLE, for Unprepared the EXECUTE's own id, empty for a QUERY).
    error,
    /// Close the connection instead of answering: with from_page K, the connection is lost
    /// after K pages of a stream.
    close_connection,
    /// Before each page with rows, send `empty_pages` empty pages that have has_more_pages
    /// set (as ScyllaDB does). SELECT only.
    empty_pages,
    /// Answer with a RESULT frame whose body does not decode.
    malformed_frame,
    /// Never answer (the connection stays open; other requests are still answered).
    stall,
  };

  action what = action::error;
  /// Empty: every QUERY and EXECUTE.
  std::string statement_contains;
  std::int32_t from_page = 0;
  /// How many requests the fault applies to; negative: every matching request.
  std::int32_t times = -1;
  std::chrono::milliseconds delay{0};
  error_code error = error_code::server_error;
  std::string message = "fault injected by scopekit::cql::server";
  /// For empty_pages: how many before each page with rows (at most 255 are sent).
  std::int32_t empty_pages = 1;
};

/// A CQL server on a listening socket, one thread per connection. Not copyable, not movable.
/// start() and stop() must not run concurrently with each other; port() may be called from any
/// thread once start() has returned.
class server {
public:
  /// A server that is not listening yet.
  explicit server(server_options options = {});
  /// Calls stop().
  ~server();

  server(const server&) = delete;
  server& operator=(const server&) = delete;
  server(server&&) = delete;
  server& operator=(server&&) = delete;

  /// Binds, listens and starts the accepting thread. Throws std::system_error if the address
  /// does not parse, the socket cannot be bound or listened on, or the thread cannot start
  /// (nothing is left open then), and std::logic_error if the server was started before.
  void start();

  /// The port listened on (the chosen one when options.port was 0); 0 before start().
  std::uint16_t port() const noexcept;

  /// Adds the table `keyspace`.`table` (id bigint PRIMARY KEY, name text, payload blob) with
  /// `rows` rows computed from the id: ids 0 to rows - 1, name "row-<id>", payload 100 bytes,
  /// byte i being (id * 31 + i) mod 256. Creates the keyspace if needed (SimpleStrategy,
  /// replication factor 1) and replaces a table of that name. Read-only: INSERT into it is
  /// refused. May be called before or after start(), from any thread. std::invalid_argument
  /// for a negative count, an empty name, or a system keyspace.
  void add_synthetic_table(const std::string& keyspace, const std::string& table,
                           std::int64_t rows);

  /// Starts applying `f` to the requests that arrive from now on, on every connection; the
  /// returned id removes it. Faults are checked in the order they were injected; the first
  /// that matches a request applies. Any thread.
  std::uint64_t inject(fault f);
  /// Stops applying the fault `id` (nothing if it is unknown or used up). Any thread.
  void remove_fault(std::uint64_t id);
  /// Stops applying every fault. Any thread.
  void clear_faults();

  /// Connections open right now. Any thread.
  std::size_t connection_count() const noexcept;

  /// What the server has served so far. Any thread.
  server_statistics statistics() const noexcept;

  /// Stops accepting, closes every connection and joins every thread the server started.
  /// Idempotent; does nothing before start(). A later connect to the port is refused.
  void stop() noexcept;

private:
  struct state;
  std::unique_ptr<state> state_;
};

}  // namespace scopekit::cql
