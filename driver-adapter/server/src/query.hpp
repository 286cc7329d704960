// query.hpp (internal) - what the statement runners share: the table a statement names, the
// errors they answer with, and one function per kind of statement, each appending its
// response (or throwing statement_error, which execute_statement answers as an ERROR).
//
// query.cpp dispatches (execute_statement) and resolves names; select.cpp runs SELECT,
// schema.cpp INSERT, CREATE, DROP and USE; prepare.cpp PREPARE.
#pragma once

#include "connection_session.hpp"
#include "system_tables.hpp"

#include "scopekit/cql/protocol/buffer.hpp"
#include "scopekit/cql/protocol/response.hpp"

#include <cstddef>
#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <vector>

namespace scopekit::cql::server_detail {

/// statement_error with code invalid (0x2200).
statement_error invalid(const std::string& message);

/// Appends `message` as the response on `stream`.
void write_response(byte_writer& out, std::int16_t stream, response_message message);

/// The keyspace `name` is in: its own, else `current` (USE); invalid if neither names one.
const std::string& keyspace_for(const qualified_name& name, const std::string& current);

/// The columns of a table a statement names: a stored table's or a system table's.
struct resolved_table {
  std::string keyspace;
  std::string name;
  std::vector<column_definition> columns;
  std::optional<std::size_t> partition_key;  // nullopt for system tables
  std::size_t token_key = 0;                 // the column token() takes: the partition key
  std::shared_ptr<table> stored;             // null for system tables
  std::optional<virtual_table> system;       // engaged for system tables

  /// The index of `column_name`; invalid ("Undefined column name") if there is none.
  std::size_t column(const std::string& column_name) const;
};

/// A column of a SELECT's result: a table column's cells, or their tokens (token(column)).
struct output_column {
  std::size_t column = 0;
  bool token = false;
};

/// The name Cassandra gives the bind marker of a token relation (`token(k) > ?`), a bigint.
inline constexpr std::string_view token_marker_name = "partition key token";

/// The result columns of `selection` (nullopt: *). invalid for an unknown column, or token()
/// of a column whose type is not the partition key's (Cassandra's "Type error").
std::vector<output_column> resolve_selection(const std::optional<std::vector<selector>>& selection,
                                             const resolved_table& t);

/// The specs of the result columns: a column's name and type; token(c) is named
/// "system.token(c)" (as Cassandra 3.11 names it) and is a bigint.
std::vector<column_spec> selection_specs(const resolved_table& t,
                                         const std::vector<output_column>& columns);

/// Checks token()'s arguments in a relation: the partition key, no other column; invalid with
/// Cassandra's message otherwise ("The token() function must be applied to all partition key
/// components or none of them", ...).
void check_token_arguments(const relation& r, const resolved_table& t);

/// Finds the table; the caller holds db.mutex (shared at least). invalid if it or its
/// keyspace does not exist.
resolved_table resolve(const qualified_name& name, const std::string& current,
                       const connection_state& state);

/// Runs SELECT (select.cpp); `empty_pages` as for execute_statement.
void run_select(byte_writer& out, std::int16_t stream, const select_statement& s,
                const std::string& current_keyspace, const query_parameters& parameters,
                connection_state& state, std::int32_t empty_pages);

/// Runs INSERT, CREATE KEYSPACE, CREATE TABLE, DROP and USE (schema.cpp).
void run_insert(byte_writer& out, std::int16_t stream, const insert_statement& s,
                const std::string& current_keyspace, const query_parameters& parameters,
                connection_state& state);
void run_create_keyspace(byte_writer& out, std::int16_t stream, const create_keyspace_statement& s,
                         connection_state& state);
void run_create_table(byte_writer& out, std::int16_t stream, const create_table_statement& s,
                      const std::string& current_keyspace, connection_state& state);
void run_drop(byte_writer& out, std::int16_t stream, const drop_statement& s,
              const std::string& current_keyspace, connection_state& state);
void run_use(byte_writer& out, std::int16_t stream, const use_statement& s,
             connection_state& state);

/// Drops what was appended to `out` since `mark` and appends the ERROR `e` instead.
void answer_error(byte_writer& out, std::size_t mark, std::int16_t stream,
                  const statement_error& e);

}  // namespace scopekit::cql::server_detail
