// system_tables.hpp (internal) - the system tables drivers read: system.local, system.peers
// and the system_schema tables, computed from the database when they are read.
#pragma once

#include "database.hpp"
#include "topology.hpp"

#include "scopekit/cql/protocol/value.hpp"
#include "scopekit/cql/server/server.hpp"

#include <optional>
#include <string_view>
#include <vector>

namespace scopekit::cql::server_detail {

/// A system table's columns and rows, materialized.
struct virtual_table {
  std::string keyspace;
  std::string name;
  std::vector<column_definition> columns;
  std::vector<std::vector<value>> rows;
};

/// True for "system", "system_schema" and "system_views".
bool is_system_keyspace(std::string_view keyspace) noexcept;

/// Who is asking: node `node_index` of `ring`, on a connection accepted on `local`
/// (system.local's addresses).
struct node_view {
  const topology* ring = nullptr;
  std::size_t node_index = 0;
  inet_address local;
  /// What the node has served (system_views.node_statistics).
  server_statistics statistics;
};

/// The table `keyspace`.`name` of a system keyspace, with rows describing `db` (the caller
/// holds its mutex) and the cluster as `node` sees it (system.local is that node, system.peers
/// every other, down or up, as Cassandra's gossip keeps them; system_views.node_statistics
/// is node.statistics, one row), or nullopt if there is no such table.
std::optional<virtual_table> system_table(std::string_view keyspace, std::string_view name,
                                          const database& db, const node_view& node);

}  // namespace scopekit::cql::server_detail
