// system_tables.hpp (internal) - the system tables drivers read: system.local, system.peers
// and the system_schema tables, computed from the database when they are read.
#pragma once

#include "database.hpp"

#include "scopekit/cql/protocol/value.hpp"

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

/// True for "system" and "system_schema".
bool is_system_keyspace(std::string_view keyspace) noexcept;

/// The table `keyspace`.`name` of a system keyspace, with rows describing `db` (the caller
/// holds its mutex), or nullopt if there is no such table. `local` is the address the
/// connection was accepted on (system.local's addresses).
std::optional<virtual_table> system_table(std::string_view keyspace, std::string_view name,
                                          const database& db, const inet_address& local);

}  // namespace scopekit::cql::server_detail
