// connection_session.hpp (internal) - one client connection's protocol state: bytes in, response
// bytes out, and whether to close. No I/O and no threads, so it can be driven by a test or a
// fuzzer.
#pragma once

#include "database.hpp"
#include "parser.hpp"
#include "topology.hpp"

#include "scopekit/cql/protocol/buffer.hpp"
#include "scopekit/cql/protocol/frame.hpp"
#include "scopekit/cql/protocol/request.hpp"
#include "scopekit/cql/server/server.hpp"
#include "scopekit/cql/protocol/value.hpp"

#include <array>
#include <atomic>
#include <chrono>
#include <cstddef>
#include <cstdint>
#include <list>
#include <map>
#include <memory>
#include <mutex>
#include <optional>
#include <span>
#include <string>
#include <vector>

namespace scopekit::cql::server_detail {

/// A prepared statement, shared by every connection (ids do not depend on the connection).
struct prepared_entry {
  std::vector<std::byte> id;
  std::string text;
  std::string keyspace;  // the keyspace in effect when it was prepared
  parsed_statement parsed;
};

/// Prepared statements by id, at most `capacity` of them: inserting one more evicts the least
/// recently inserted or found (as Cassandra's prepared cache evicts). Thread-safe.
class prepared_cache {
public:
  explicit prepared_cache(std::size_t capacity = server_options{}.max_prepared_statements);
  /// The entry with `id`, now the most recently used; null if it was never inserted or has
  /// been evicted.
  std::shared_ptr<const prepared_entry> find(std::span<const std::byte> id);
  /// Adds `entry` (replacing one with its id) as the most recently used.
  void insert(std::shared_ptr<const prepared_entry> entry);

private:
  using recency_list = std::list<std::shared_ptr<const prepared_entry>>;  // most recent first
  mutable std::mutex mutex_;
  std::size_t capacity_;
  recency_list recency_;
  std::map<std::vector<std::byte>, recency_list::iterator, bytes_less> by_id_;
};

/// The faults in force. Thread-safe.
class fault_registry {
public:
  std::uint64_t add(fault f);
  void remove(std::uint64_t id);
  void clear();
  /// The first fault matching a request for page `page` of statement `text`, used up by one if it
  /// has a count; nullopt if none.
  std::optional<fault> match(std::string_view text, std::int32_t page);

private:
  std::mutex mutex_;
  std::vector<std::pair<std::uint64_t, fault>> faults_;
  std::uint64_t next_id_ = 1;
};

/// What a node counts (server_statistics), updated by every connection.
struct node_counters {
  std::atomic<std::uint64_t> requests{0};
  std::atomic<std::uint64_t> statements{0};
  std::atomic<std::uint64_t> pages{0};
  std::atomic<std::uint64_t> rows{0};
  std::atomic<std::uint64_t> authentication_failures{0};

  server_statistics snapshot() const noexcept;
};

/// What a node keeps across its restarts (a cluster's node is made anew when it restarts):
/// the faults injected into it and what it counted.
struct node_state {
  fault_registry faults;
  node_counters counters;
};

/// What every connection of a node shares: the database (one copy for a whole cluster), the
/// cluster's topology and this node's place in it, the node's prepared statements, faults,
/// counters and users.
struct server_shared {
  /// A lone node with a database of its own and no authentication (tests, the fuzzer).
  explicit server_shared(std::size_t max_prepared = server_options{}.max_prepared_statements);
  server_shared(std::size_t max_prepared, std::shared_ptr<database> shared_db,
                std::shared_ptr<const topology> cluster, std::size_t index,
                std::shared_ptr<node_state> state, std::vector<credentials> allowed);

  std::shared_ptr<database> database_owner;
  database& db;
  std::shared_ptr<const topology> ring;
  std::size_t node_index = 0;
  std::shared_ptr<node_state> node;
  fault_registry& faults;
  node_counters& counters;
  prepared_cache prepared;
  /// Empty: no authentication.
  std::vector<credentials> users;
};

/// What a session knows about its connection: its address, and the server_options limits a
/// session applies (server.hpp documents each).
struct connection_context {
  /// The server's address on this connection, reported as rpc_address and friends.
  inet_address local_address;
  std::size_t max_frame_body = default_max_body_size;
  std::size_t max_query_bytes = server_options{}.max_query_bytes;
  std::int64_t max_result_rows = server_options{}.max_result_rows;
  std::size_t max_pending_response_bytes = server_options{}.max_pending_response_bytes;
};

/// A response to send later (fault::action::delay).
struct deferred_response {
  std::chrono::steady_clock::time_point due;
  std::vector<std::byte> bytes;
};

/// The state one connection's statements run in.
struct connection_state {
  const connection_context* context = nullptr;
  server_shared* shared = nullptr;
  std::string keyspace;             // USE
};

/// The protocol state of one connection. Not thread-safe: one thread feeds it.
class connection_session {
public:
  connection_session(const connection_context& context, server_shared& shared);

  /// Consumes `in` and appends the responses to `out`, in request order, except those a
  /// fault delays, which go to `later`. Returns false once the connection must be closed:
  /// `out` then holds what to send before closing (an ERROR, unless a fault closes it
  /// silently), and the session must not be fed again.
  ///
  /// Backpressure: once `out` holds context.max_pending_response_bytes or more, the session
  /// answers no more requests and keeps the rest of `in`; has_unanswered() is then true, and
  /// the caller sends `out` and calls consume again (with new bytes, or none) to go on.
  bool consume(std::span<const std::byte> in, std::vector<std::byte>& out,
               std::vector<deferred_response>& later);

  /// True if bytes given to consume() hold requests not answered yet (see backpressure).
  bool has_unanswered() const noexcept { return splitter_.has_frame() || !unread_.empty(); }

private:
  bool handle(frame&& f, byte_writer& out, std::vector<deferred_response>& later);
  bool dispatch(const request& r, byte_writer& out, std::vector<deferred_response>& later);
  bool run_statement(std::int16_t stream, std::string_view text, const parsed_statement* parsed,
                     const std::string& keyspace, const query_parameters& parameters,
                     std::span<const std::byte> prepared_id, byte_writer& out,
                     std::vector<deferred_response>& later);
  std::int16_t stream_in_header() const noexcept;
  void authenticate(std::int16_t stream, const auth_response_request& m, byte_writer& out);

  connection_context context_;
  connection_state state_;
  frame_splitter splitter_;
  std::vector<std::byte> unread_;  // input kept back by backpressure, not yet split
  std::array<std::byte, header_size> header_{};  // the header bytes of the frame being read
  /// Where the connection is in its handshake.
  enum class phase : std::uint8_t {
    startup,         // expecting STARTUP (or OPTIONS)
    authenticating,  // AUTHENTICATE sent, expecting AUTH_RESPONSE
    ready,           // READY or AUTH_SUCCESS sent
  };
  phase phase_ = phase::startup;
};

/// Appends an ERROR frame on `stream` (version 0x84).
void write_error(byte_writer& out, std::int16_t stream, error_code code, std::string message);

/// Appends the response to a statement on `stream`: Rows, Void, Set_keyspace or
/// Schema_change, or an ERROR. `empty_pages` empty pages precede each page with rows
/// (fault::action::empty_pages).
void execute_statement(byte_writer& out, std::int16_t stream, const parsed_statement& parsed,
                       const std::string& keyspace, const query_parameters& parameters,
                       connection_state& state, std::int32_t empty_pages = 0);

/// Appends the response to PREPARE: a Prepared result (and the statement is cached), or an
/// ERROR.
void prepare_statement(byte_writer& out, std::int16_t stream, std::string_view text,
                       connection_state& state);

/// The page a request asks for: 0 without a paging state, else the number in the state (0 if
/// the state is not one this server wrote).
std::int32_t requested_page(const query_parameters& parameters) noexcept;

}  // namespace scopekit::cql::server_detail
