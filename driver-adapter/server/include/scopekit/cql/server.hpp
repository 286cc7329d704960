// scopekit/cql/server.hpp - an embedded, in-memory CQL server speaking native protocol v4, for
// tests, examples and benchmarks that need a Cassandra and have none.
//
// start() binds a TCP listener (loopback and an ephemeral port by default) and serves each
// connection on a thread of its own until stop(), which the destructor calls. What it answers
// in this version: OPTIONS, STARTUP, REGISTER, and SELECT on system.local (one 3.11-shaped row)
// and system.peers (no rows); system.peers_v2 is refused as Cassandra 3.x refuses it, so that
// drivers fall back. Any other protocol version gets ERROR 0x000A naming the supported one.
// Other statements get ERROR 0x2000 / 0x2200 saying what is not supported. A malformed frame
// gets ERROR 0x000A and the connection is closed; the server itself keeps serving.
//
//   scopekit::cql::server srv;          // 127.0.0.1, any free port
//   srv.start();                        // std::system_error if it cannot listen
//   connect_driver_to("127.0.0.1", srv.port());
//   srv.stop();                         // closes every connection, joins every thread
#pragma once

#include <cstddef>
#include <cstdint>
#include <memory>
#include <string>

namespace scopekit::cql {

/// How a server listens.
struct server_options {
  /// A numeric IPv4 or IPv6 address ("127.0.0.1", "::1", "0.0.0.0").
  std::string bind_address = "127.0.0.1";
  /// The TCP port; 0 lets the system choose one (read it back with server::port()).
  std::uint16_t port = 0;
  /// The longest frame body accepted; a frame announcing more gets ERROR 0x000A and the
  /// connection is closed. The spec's cap (256 MB) by default.
  std::size_t max_frame_body = std::size_t{256} * 1024 * 1024;
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

  /// Stops accepting, closes every connection and joins every thread the server started.
  /// Idempotent; does nothing before start(). A later connect to the port is refused.
  void stop() noexcept;

private:
  struct state;
  std::unique_ptr<state> state_;
};

}  // namespace scopekit::cql
