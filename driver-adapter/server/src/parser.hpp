// parser.hpp (internal) - the CQL statements the embedded server understands, parsed from
// text: CREATE KEYSPACE, CREATE TABLE, DROP KEYSPACE / TABLE, USE, INSERT and SELECT, with
// literals and positional bind markers. A hand-written lexer and recursive-descent parser; what
// it does not know it refuses with a statement_error whose message says what is not supported.
#pragma once

#include "scopekit/cql/protocol/data_type.hpp"
#include "scopekit/cql/protocol/error.hpp"

#include <cstddef>
#include <cstdint>
#include <optional>
#include <stdexcept>
#include <string>
#include <string_view>
#include <utility>
#include <variant>
#include <vector>

namespace scopekit::cql::server_detail {

/// A statement the server refuses: the ERROR code to answer with, and what() as the message.
class statement_error : public std::runtime_error {
public:
  statement_error(error_code code, const std::string& message)
      : std::runtime_error(message), code_(code) {}
  error_code code() const noexcept { return code_; }

private:
  error_code code_;
};

/// A literal or a bind marker, as written; converted to bytes once the column type is known.
struct term {
  enum class kind : std::uint8_t {
    string,    // 'text' (unquoted)
    number,    // -12, 3.5, 1e10 (as written)
    word,      // true, false, nan, infinity (lower-cased)
    null,      // null
    blob,      // 0xCAFE: the hex digits after 0x
    uuid,      // 8-4-4-4-12 hex digits
    list,      // [a, b]
    set_or_map,  // {a, b} or {k: v}; `items` holds keys and values alternately when is_map
    marker,    // ?
  };
  kind type = kind::null;
  std::string text;
  std::vector<term> items;
  bool is_map = false;      // set_or_map only
  std::size_t marker = 0;   // marker only: its position among the statement's markers
};

/// [keyspace.]name; keyspace empty when not given.
struct qualified_name {
  std::string keyspace;
  std::string name;
};

/// A column type as CREATE TABLE wrote it: the protocol type and its CQL spelling as
/// system_schema.columns reports it ("text", "frozen<list<int>>").
struct column_type {
  data_type type = type_id::varchar;
  std::string cql;
};

struct column_definition {
  std::string name;
  column_type type;
};

struct create_keyspace_statement {
  std::string name;
  bool if_not_exists = false;
  std::vector<std::pair<std::string, std::string>> replication;
  bool durable_writes = true;
};

struct create_table_statement {
  qualified_name table;
  bool if_not_exists = false;
  std::vector<column_definition> columns;
  std::size_t partition_key = 0;  // index into columns
};

struct drop_statement {
  bool is_keyspace = false;
  qualified_name target;  // for a keyspace: target.name
  bool if_exists = false;
};

struct use_statement {
  std::string keyspace;
};

struct insert_statement {
  qualified_name table;
  std::vector<std::string> columns;
  std::vector<term> values;  // one per column
};

/// `column = term` in a WHERE clause, or `token(columns) <op> term` (=, <, <=, >, >=).
struct relation {
  enum class comparison : std::uint8_t { eq, lt, le, gt, ge };
  std::string column;                      // not on token: the column
  std::vector<std::string> token_columns;  // on token: token()'s arguments (at least one)
  comparison op = comparison::eq;
  term value;

  [[nodiscard]] bool on_token() const noexcept { return !token_columns.empty(); }
};

/// A column of a SELECT's result: a column, or token(column) (Cassandra's system.token).
struct selector {
  std::string column;
  bool token = false;
};

struct select_statement {
  std::optional<std::vector<selector>> columns;  // nullopt: *
  qualified_name table;
  std::vector<relation> where;  // joined by AND
  std::optional<term> limit;
  bool allow_filtering = false;
};

using statement = std::variant<create_keyspace_statement, create_table_statement,
                               drop_statement, use_statement, insert_statement, select_statement>;

/// A parsed statement and how many bind markers it has.
struct parsed_statement {
  statement body;
  std::size_t markers = 0;
};

/// The deepest nesting of collection literals ([...], {...}) and of types (list<...>) in a
/// statement; deeper is refused (syntax_error), so no input makes the parser's recursion, or
/// the recursion over a value of a nested type, deeper than this. The protocol's own limit
/// on a type's nesting, so that every type the server stores can be described on the wire.
inline constexpr auto max_nesting = static_cast<std::size_t>(max_type_depth);

/// Parses one statement (an optional trailing ';'). statement_error with code syntax_error for
/// text that is not CQL, invalid for CQL this server does not support, each message saying
/// which.
parsed_statement parse_statement(std::string_view text);

/// Parses a CQL type ("int", "map<text, frozen<list<int>>>"); statement_error if it is not
/// one this server stores.
column_type parse_column_type(std::string_view text);

}  // namespace scopekit::cql::server_detail
