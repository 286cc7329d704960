// topology.hpp (internal) - who the nodes of a cluster are: each node's address, host id, data
// center, rack and tokens, as system.local and system.peers report them. A lone server is a
// cluster of one node.
#pragma once

#include "scopekit/cql/protocol/value.hpp"

#include <cstddef>
#include <cstdint>
#include <string>
#include <vector>

namespace scopekit::cql::server_detail {

/// One node as its peers see it.
struct node_identity {
  /// Where it listens (system.peers' peer and rpc_address). A lone server reports the address
  /// each connection was accepted on instead (it may listen on 0.0.0.0).
  inet_address address;
  uuid host_id;
  std::string data_center = "datacenter1";
  std::string rack = "rack1";
  /// Its vnodes' tokens, ascending.
  std::vector<std::int64_t> tokens;
};

/// Every node of a cluster; immutable once the cluster is made.
struct topology {
  std::string cluster_name = "scopekit";
  std::vector<node_identity> nodes;
};

/// `nodes` lists of `num_tokens` tokens each, all distinct and none the ring's minimum token
/// (which no key has), drawn from `seed` (the same seed, the same tokens), each list ascending.
/// Together they split the ring in about even parts, as Cassandra's random vnode tokens do.
std::vector<std::vector<std::int64_t>> assign_tokens(std::size_t nodes, std::size_t num_tokens,
                                                     std::uint64_t seed);

/// A host id derived from `seed` and the node's index: the same for every run with that seed.
uuid host_id_for(std::uint64_t seed, std::size_t node);

/// A topology of one node, with `num_tokens` tokens drawn from `seed` (a lone server's).
topology single_node_topology(std::size_t num_tokens, std::uint64_t seed);

}  // namespace scopekit::cql::server_detail
