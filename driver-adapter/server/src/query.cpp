// query.cpp - running a statement: execute_statement's dispatch to the runner of each kind
// (select.cpp, schema.cpp), and what they share: names resolved to tables, errors answered.
#include "query.hpp"

#include <algorithm>
#include <string>
#include <type_traits>
#include <utility>
#include <variant>

namespace scopekit::cql::server_detail {
namespace {

// Cassandra's words for a table that does not exist.
std::string unconfigured(const std::string& table) {
  std::string message = "unconfigured table ";
  message.append(table);
  return message;
}

void check_markers(const parsed_statement& statement, const query_parameters& parameters) {
  if (!parameters.names.empty()) {
    throw invalid(
        "values bound by name are not supported by scopekit's embedded CQL server; bind them "
        "by position");
  }
  if (parameters.values.size() != statement.markers) {
    std::string message = "There were ";
    message.append(std::to_string(statement.markers))
        .append(" markers(?) in CQL but ")
        .append(std::to_string(parameters.values.size()))
        .append(" bound variables");
    throw invalid(message);
  }
}

}  // namespace

statement_error invalid(const std::string& message) {
  return {error_code::invalid, message};
}

void write_response(byte_writer& out, std::int16_t stream, response_message message) {
  response r;
  r.stream = stream;
  r.message = std::move(message);
  encode_response(out, r);
}

const std::string& keyspace_for(const qualified_name& name, const std::string& current) {
  if (!name.keyspace.empty()) {
    return name.keyspace;
  }
  if (current.empty()) {
    throw invalid(
        "No keyspace has been specified. USE a keyspace, or explicitly specify "
        "keyspace.tablename");
  }
  return current;
}

std::size_t resolved_table::column(const std::string& column_name) const {
  for (std::size_t i = 0; i < columns.size(); ++i) {
    if (columns[i].name == column_name) {
      return i;
    }
  }
  throw invalid("Undefined column name " + column_name);
}

resolved_table resolve(const qualified_name& name, const std::string& current,
                       const connection_state& state) {
  resolved_table out;
  out.keyspace = keyspace_for(name, current);
  out.name = name.name;
  const database& db = state.shared->db;
  if (is_system_keyspace(out.keyspace)) {
    const node_view node{state.shared->ring.get(), state.shared->node_index,
                         state.context->local_address, state.shared->counters.snapshot()};
    out.system = system_table(out.keyspace, out.name, db, node);
    if (!out.system) {
      throw invalid(unconfigured(out.name));
    }
    out.columns = out.system->columns;
    out.token_key = 0;  // every system table's first column is its partition key, as in 3.11
    return out;
  }
  const auto ks = db.keyspaces.find(out.keyspace);
  if (ks == db.keyspaces.end()) {
    throw invalid("Keyspace " + out.keyspace + " does not exist");
  }
  const auto t = ks->second.tables.find(out.name);
  if (t == ks->second.tables.end()) {
    throw invalid(unconfigured(out.name));
  }
  out.stored = t->second;
  out.columns = out.stored->columns;
  out.partition_key = out.stored->partition_key;
  out.token_key = out.stored->partition_key;
  return out;
}

std::vector<output_column> resolve_selection(const std::optional<std::vector<selector>>& selection,
                                             const resolved_table& t) {
  std::vector<output_column> out;
  if (!selection) {
    for (std::size_t i = 0; i < t.columns.size(); ++i) {
      out.push_back({i, false});
    }
    return out;
  }
  for (const selector& s : *selection) {
    const std::size_t column = t.column(s.column);
    if (s.token && t.columns[column].type.type != t.columns[t.token_key].type.type) {
      throw invalid("Type error: " + s.column +
                    " cannot be passed as argument 0 of function system.token of type " +
                    t.columns[t.token_key].type.cql);
    }
    out.push_back({column, s.token});
  }
  return out;
}

std::vector<column_spec> selection_specs(const resolved_table& t,
                                         const std::vector<output_column>& columns) {
  const table_spec table{t.keyspace, t.name};
  std::vector<column_spec> out;
  out.reserve(columns.size());
  for (const output_column& c : columns) {
    const column_definition& d = t.columns[c.column];
    if (c.token) {
      out.push_back(column_spec{table, "system.token(" + d.name + ")", type_id::bigint});
    } else {
      out.push_back(column_spec{table, d.name, d.type.type});
    }
  }
  return out;
}

void check_token_arguments(const relation& r, const resolved_table& t) {
  std::vector<std::size_t> columns;
  for (const std::string& name : r.token_columns) {
    columns.push_back(t.column(name));
  }
  if (std::find(columns.begin(), columns.end(), t.token_key) == columns.end()) {
    throw invalid(
        "The token() function must be applied to all partition key components or none of them");
  }
  if (std::count(columns.begin(), columns.end(), t.token_key) > 1) {
    throw invalid("The token() function contains duplicate partition key components");
  }
  if (columns.size() > 1) {
    throw invalid("The token() function must contains only partition key components");
  }
}

void answer_error(byte_writer& out, std::size_t mark, std::int16_t stream,
                  const statement_error& e) {
  out.buffer().resize(mark);
  write_error(out, stream, e.code(), e.what());
}

void execute_statement(byte_writer& out, std::int16_t stream, const parsed_statement& parsed,
                       const std::string& keyspace, const query_parameters& parameters,
                       connection_state& state, std::int32_t empty_pages) {
  const std::size_t mark = out.size();
  try {
    check_markers(parsed, parameters);
    std::visit(
        [&](const auto& s) {
          using type = std::remove_cvref_t<decltype(s)>;
          if constexpr (std::is_same_v<type, select_statement>) {
            run_select(out, stream, s, keyspace, parameters, state, empty_pages);
          } else if constexpr (std::is_same_v<type, insert_statement>) {
            run_insert(out, stream, s, keyspace, parameters, state);
          } else if constexpr (std::is_same_v<type, create_keyspace_statement>) {
            run_create_keyspace(out, stream, s, state);
          } else if constexpr (std::is_same_v<type, create_table_statement>) {
            run_create_table(out, stream, s, keyspace, state);
          } else if constexpr (std::is_same_v<type, drop_statement>) {
            run_drop(out, stream, s, keyspace, state);
          } else {
            static_assert(std::is_same_v<type, use_statement>);
            run_use(out, stream, s, state);
          }
        },
        parsed.body);
  } catch (const statement_error& e) {
    answer_error(out, mark, stream, e);
  } catch (const protocol_error& e) {
    answer_error(out, mark, stream, statement_error{error_code::protocol_error, e.what()});
  }
}

}  // namespace scopekit::cql::server_detail
