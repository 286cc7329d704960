// scopekit/cql/server/cluster.hpp - several embedded CQL servers that make one cluster: one
// copy of the data, every node a coordinator for every query, each node on its own loopback
// address with the same port, each with its host id and vnode tokens on the Murmur3 ring, all
// of them listed in the others' system.peers. Nodes can be stopped, restarted and made to
// misbehave one by one, for tests of failover, retries and token-aware routing.
//
//   scopekit::cql::cluster_options options;
//   options.nodes = 3;                               // 127.0.0.1, 127.0.0.2, 127.0.0.3
//   options.node.users = {{"cassandra", "secret"}};  // authentication on every node
//   scopekit::cql::cluster c{options};
//   c.start();                                       // std::system_error if a node cannot listen
//   connect_driver_to(c.address(0), c.port());       // the driver finds the two others
//   c.stop_node(1);                                  // connections to 127.0.0.2 are refused
//   c.start_node(1);                                 // and accepted again
//
// docs/reference/cql_server.md has the whole dialect and the fault catalogue.
#pragma once

#include "scopekit/cql/server/server.hpp"

#include <cstddef>
#include <cstdint>
#include <memory>
#include <string>
#include <vector>

namespace scopekit::cql {

/// The shape of a cluster.
struct cluster_options {
  /// How many nodes; at least 1.
  std::size_t nodes = 3;
  /// The first node's address, a numeric IPv4 one; node i listens on this address plus i
  /// (127.0.0.1, 127.0.0.2, ...: all of 127.0.0.0/8 is loopback on Linux). The last octet must
  /// leave room for every node.
  std::string first_address = "127.0.0.1";
  /// The port every node listens on; 0 picks one that is free on every node's address.
  std::uint16_t port = 0;
  /// Tokens (vnodes) per node.
  std::size_t num_tokens = 16;
  /// The seed every node's tokens and host id are drawn from: the same seed, the same ring.
  std::uint64_t token_seed = 0;
  /// system.local's cluster_name on every node.
  std::string cluster_name = "scopekit";
  /// Every node's data center and rack (system.local and system.peers).
  std::string data_center = "datacenter1";
  std::string rack = "rack1";
  /// Each node's limits and users (server_options); its bind_address, port, num_tokens and
  /// token_seed are ignored (the fields above decide them).
  server_options node;
};

/// A cluster of embedded CQL servers in this process. Not copyable, not movable. start(),
/// stop(), start_node() and stop_node() must not run concurrently with each other; the other
/// members may be called from any thread.
class cluster {
public:
  /// A cluster that is not listening yet. std::invalid_argument if the options cannot make one
  /// (no nodes, no tokens, an address that is not IPv4, too many nodes for the last octet).
  explicit cluster(cluster_options options = {});
  /// Calls stop().
  ~cluster();

  cluster(const cluster&) = delete;
  cluster& operator=(const cluster&) = delete;
  cluster(cluster&&) = delete;
  cluster& operator=(cluster&&) = delete;

  /// Starts every node. Throws std::system_error if one cannot listen (then none is left
  /// listening), std::logic_error if the cluster was started before.
  void start();

  /// How many nodes the cluster has.
  std::size_t size() const noexcept;
  /// The port every node listens on; 0 before start().
  std::uint16_t port() const noexcept;
  /// Node `node`'s address ("127.0.0.2"). std::out_of_range for a node that does not exist
  /// (every member taking a node index does the same).
  std::string address(std::size_t node) const;
  /// Node `node`'s tokens, ascending, as its system.local reports them.
  std::vector<std::int64_t> tokens(std::size_t node) const;

  /// Takes node `node` down: it stops listening (connections are refused) and its connections
  /// are closed mid-stream. Its peers still list it, as Cassandra's do. Nothing if it is down.
  void stop_node(std::size_t node);
  /// Brings node `node` back on its address and port, with its tokens, faults and counters, and
  /// an empty prepared statement cache (as a restarted Cassandra node). Nothing if it is up.
  /// std::system_error if it cannot listen again.
  void start_node(std::size_t node);
  /// True if node `node` is listening.
  bool is_up(std::size_t node) const;

  /// As server::add_synthetic_table: the table is visible on every node.
  void add_synthetic_table(const std::string& keyspace, const std::string& table,
                           std::int64_t rows);

  /// As server::inject, for node `node` only (slow it down, stall it, make it answer errors,
  /// drop connections mid-stream). The faults stay across a restart.
  std::uint64_t inject(std::size_t node, fault f);
  void remove_fault(std::size_t node, std::uint64_t id);
  void clear_faults(std::size_t node);

  /// What node `node` has served since the cluster was made (restarts included).
  server_statistics statistics(std::size_t node) const;
  /// Connections open on node `node` right now.
  std::size_t connection_count(std::size_t node) const;

  /// Stops every node. Idempotent.
  void stop() noexcept;

private:
  struct state;
  std::unique_ptr<state> state_;
};

}  // namespace scopekit::cql
