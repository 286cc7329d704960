// schema.cpp - the statements that change what is stored or where: INSERT, CREATE KEYSPACE,
// CREATE TABLE, DROP KEYSPACE / TABLE and USE.
#include "bind.hpp"
#include "query.hpp"

#include <algorithm>
#include <mutex>
#include <shared_mutex>
#include <string>
#include <utility>

namespace scopekit::cql::server_detail {
namespace {

void refuse_system(const std::string& keyspace) {
  if (is_system_keyspace(keyspace)) {
    throw statement_error(error_code::unauthorized, keyspace + " keyspace is not user-modifiable.");
  }
}

}  // namespace

void run_insert(byte_writer& out, std::int16_t stream, const insert_statement& s,
                const std::string& current_keyspace, const query_parameters& parameters,
                connection_state& state) {
  const std::unique_lock lock{state.shared->db.mutex};
  resolved_table t = resolve(s.table, current_keyspace, state);
  if (!t.stored) {
    throw statement_error(error_code::unauthorized,
                          t.keyspace + " keyspace is not user-modifiable.");
  }
  if (t.stored->synthetic_rows) {
    throw invalid(t.keyspace + "." + t.name +
                  " is a synthetic table of scopekit's embedded CQL server: it is read-only");
  }
  std::vector<std::pair<std::size_t, bound_value>> values;
  std::optional<std::vector<std::byte>> key;
  for (std::size_t i = 0; i < s.columns.size(); ++i) {
    const std::size_t column = t.column(s.columns[i]);
    const bool seen =
        std::any_of(values.begin(), values.end(), [&](const auto& v) { return v.first == column; });
    if (seen) {
      throw invalid("Multiple definitions found for column " + s.columns[i]);
    }
    bound_value v =
        bind_term(s.values[i], t.columns[column].type.type, parameters.values, s.columns[i]);
    if (column == *t.partition_key) {
      if (v.state == bound_value::kind::null) {
        throw invalid("Invalid null value in condition for column " + s.columns[i]);
      }
      if (v.state == bound_value::kind::unset) {
        throw invalid("Invalid unset value for column " + s.columns[i]);
      }
      key = v.bytes;
    }
    values.emplace_back(column, std::move(v));
  }
  if (!key) {
    throw invalid("Some partition key parts are missing: " + t.columns[*t.partition_key].name);
  }
  if (key->empty()) {
    throw invalid("Key may not be empty");  // Cassandra's words; its token would be the minimum
  }
  auto [row, inserted] = t.stored->rows.try_emplace(row_key(*key));
  if (inserted) {
    row->second.resize(t.columns.size());
  }
  for (auto& [column, v] : values) {
    if (v.state == bound_value::kind::set) {
      row->second[column] = std::move(v.bytes);
    } else if (v.state == bound_value::kind::null) {
      row->second[column].reset();
    }
  }
  write_response(out, stream, void_result{});
}

void run_create_keyspace(byte_writer& out, std::int16_t stream, const create_keyspace_statement& s,
                         connection_state& state) {
  refuse_system(s.name);
  const std::unique_lock lock{state.shared->db.mutex};
  auto [it, inserted] = state.shared->db.keyspaces.try_emplace(s.name);
  if (!inserted) {
    if (s.if_not_exists) {
      write_response(out, stream, void_result{});
      return;
    }
    response r;
    r.stream = stream;
    r.message = error_response{error_code::already_exists,
                               "Cannot add existing keyspace \"" + s.name + "\"",
                               already_exists_error{s.name, ""}};
    encode_response(out, r);
    return;
  }
  it->second.name = s.name;
  it->second.replication = s.replication;
  for (auto& [k, v] : it->second.replication) {
    if (k == "class" && v.find('.') == std::string::npos) {
      v.insert(0, "org.apache.cassandra.locator.");
    }
  }
  it->second.durable_writes = s.durable_writes;
  write_response(out, stream, schema_change_result{"CREATED", "KEYSPACE", s.name, "", {}});
}

void run_create_table(byte_writer& out, std::int16_t stream, const create_table_statement& s,
                      const std::string& current_keyspace, connection_state& state) {
  const std::string keyspace_name = keyspace_for(s.table, current_keyspace);
  refuse_system(keyspace_name);
  const std::unique_lock lock{state.shared->db.mutex};
  const auto ks = state.shared->db.keyspaces.find(keyspace_name);
  if (ks == state.shared->db.keyspaces.end()) {
    throw invalid("Keyspace " + keyspace_name + " doesn't exist");
  }
  if (ks->second.tables.contains(s.table.name)) {
    if (s.if_not_exists) {
      write_response(out, stream, void_result{});
      return;
    }
    response r;
    r.stream = stream;
    r.message = error_response{error_code::already_exists,
                               "Object " + keyspace_name + "." + s.table.name + " already exists",
                               already_exists_error{keyspace_name, s.table.name}};
    encode_response(out, r);
    return;
  }
  auto t = std::make_shared<table>();
  t->keyspace = keyspace_name;
  t->name = s.table.name;
  t->columns = s.columns;
  t->partition_key = s.partition_key;
  t->id = table_id(keyspace_name, s.table.name);
  ks->second.tables.emplace(s.table.name, std::move(t));
  write_response(out, stream,
                 schema_change_result{"CREATED", "TABLE", keyspace_name, s.table.name, {}});
}

void run_drop(byte_writer& out, std::int16_t stream, const drop_statement& s,
              const std::string& current_keyspace, connection_state& state) {
  auto& keyspaces = state.shared->db.keyspaces;
  if (s.is_keyspace) {
    refuse_system(s.target.name);
    const std::unique_lock lock{state.shared->db.mutex};
    if (keyspaces.erase(s.target.name) == 0) {
      if (!s.if_exists) {
        throw statement_error(error_code::config_error,
                              "Cannot drop non existing keyspace '" + s.target.name + "'.");
      }
      write_response(out, stream, void_result{});
      return;
    }
    write_response(out, stream, schema_change_result{"DROPPED", "KEYSPACE", s.target.name, "", {}});
    return;
  }
  const std::string keyspace_name = keyspace_for(s.target, current_keyspace);
  refuse_system(keyspace_name);
  const std::unique_lock lock{state.shared->db.mutex};
  const auto ks = keyspaces.find(keyspace_name);
  if (ks == keyspaces.end() || ks->second.tables.erase(s.target.name) == 0) {
    if (!s.if_exists) {
      throw statement_error(error_code::config_error, "Cannot drop non existing table '" +
                                                          s.target.name + "' in keyspace '" +
                                                          keyspace_name + "'.");
    }
    write_response(out, stream, void_result{});
    return;
  }
  write_response(out, stream,
                 schema_change_result{"DROPPED", "TABLE", keyspace_name, s.target.name, {}});
}

void run_use(byte_writer& out, std::int16_t stream, const use_statement& s,
             connection_state& state) {
  {
    const std::shared_lock lock{state.shared->db.mutex};
    if (!is_system_keyspace(s.keyspace) && !state.shared->db.keyspaces.contains(s.keyspace)) {
      throw invalid("Keyspace '" + s.keyspace + "' does not exist");
    }
  }
  state.keyspace = s.keyspace;
  write_response(out, stream, set_keyspace_result{s.keyspace});
}

}  // namespace scopekit::cql::server_detail
