// node_server.hpp (internal) - one node's sockets and threads: a listener, and a thread per
// connection feeding a connection_session. server is one of these; cluster holds one per node
// and makes a new one when a node restarts (its node_state, and the database, carry over).
#pragma once

#include "connection_session.hpp"
#include "database.hpp"
#include "topology.hpp"

#include "scopekit/cql/net/unique_fd.hpp"
#include "scopekit/cql/server/server.hpp"

#include <atomic>
#include <cstddef>
#include <cstdint>
#include <list>
#include <memory>
#include <mutex>
#include <span>
#include <thread>
#include <vector>

namespace scopekit::cql::server_detail {

/// A node listening on options.bind_address:options.port. Not copyable, not movable. start()
/// and stop() must not run concurrently with each other; the other members may be called from
/// any thread.
class node_server {
public:
  /// Node `node_index` of `ring`, serving `db` (shared with the other nodes of its cluster).
  node_server(server_options options, std::shared_ptr<database> db,
              std::shared_ptr<const topology> ring, std::size_t node_index,
              std::shared_ptr<node_state> node);
  /// Calls stop().
  ~node_server();
  node_server(const node_server&) = delete;
  node_server& operator=(const node_server&) = delete;
  node_server(node_server&&) = delete;
  node_server& operator=(node_server&&) = delete;

  /// As server::start (once only).
  void start();
  /// As server::stop.
  void stop() noexcept;
  /// The port listened on; 0 before start().
  std::uint16_t port() const noexcept;
  std::size_t connection_count() const noexcept;
  server_shared& shared() noexcept { return shared_; }

private:
  struct connection {
    net::unique_fd fd;
    std::thread thread;
    std::atomic<bool> done{false};
  };

  void accept_loop() noexcept;
  void serve(connection& c) noexcept;
  void reap_finished();
  void admit(net::unique_fd fd);
  bool answer(connection_session& s, std::span<const std::byte> in, connection& c,
              std::vector<std::byte>& out, std::vector<deferred_response>& later);

  server_options options_;
  server_shared shared_;
  std::atomic<std::size_t> open_connections_{0};
  net::unique_fd listen_fd_;
  net::unique_fd wake_read_;  // a pipe: stop() writes to wake_write_, the accept loop wakes up
  net::unique_fd wake_write_;
  std::uint16_t bound_port_ = 0;
  bool started_ = false;
  bool stopped_ = false;
  std::thread acceptor_;
  std::mutex mutex_;                   // guards connections_
  std::list<connection> connections_;  // list: a connection does not move while served
};

}  // namespace scopekit::cql::server_detail
