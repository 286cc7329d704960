// prepare.cpp - PREPARE: a statement's id, the description of its bind markers and result
// columns, and the shared cache entry EXECUTE finds it by.
#include "query.hpp"

#include <algorithm>
#include <memory>
#include <shared_mutex>
#include <string>
#include <utility>

namespace scopekit::cql::server_detail {
namespace {

std::vector<std::byte> statement_id(std::string_view keyspace, std::string_view text) {
  const uuid id = table_id(keyspace, text);
  return {id.bytes.begin(), id.bytes.end()};
}

bool has_marker(const term& t) {
  return t.type == term::kind::marker ||
         std::any_of(t.items.begin(), t.items.end(), [](const term& i) { return has_marker(i); });
}

// The specs of a statement's bind markers, noted one term at a time, and which is the key's.
class marker_specs {
public:
  explicit marker_specs(std::size_t count) : markers_(count) {}

  // `t` is the value of `column` of `table` (or, with a name, a value of `type` that is no
  // column's: the LIMIT, an int; a token bound, a bigint).
  void note(const term& t, const resolved_table& table, std::size_t column,
            std::string_view name_override = {}, type_id type = type_id::int_) {
    if (t.type != term::kind::marker) {
      if (has_marker(t)) {
        throw invalid(
            "bind markers inside collection literals are not supported by scopekit's embedded "
            "CQL server; bind the whole collection");
      }
      return;
    }
    const table_spec spec{table.keyspace, table.name};
    if (name_override.empty()) {
      markers_[t.marker] =
          column_spec{spec, table.columns[column].name, table.columns[column].type.type};
      if (table.partition_key && column == *table.partition_key) {
        key_markers_.push_back(static_cast<std::uint16_t>(t.marker));
      }
    } else {
      markers_[t.marker] = column_spec{spec, std::string(name_override), type};
    }
  }

  // Every marker's spec into `out`; invalid if one was never noted.
  void finish(prepared_metadata& out) {
    for (auto& m : markers_) {
      if (!m) {
        throw invalid("a bind marker in an unsupported position");
      }
      out.columns.push_back(std::move(*m));
    }
    std::sort(key_markers_.begin(), key_markers_.end());
    if (!key_markers_.empty()) {
      out.partition_key_indexes = {key_markers_.front()};
    }
  }

private:
  std::vector<std::optional<column_spec>> markers_;
  std::vector<std::uint16_t> key_markers_;
};

// The columns a SELECT returns.
result_metadata select_result(const select_statement& select, const resolved_table& table) {
  result_metadata out;
  out.global_table = table_spec{table.keyspace, table.name};
  out.columns = selection_specs(table, resolve_selection(select.columns, table));
  out.column_count = static_cast<std::int32_t>(out.columns.size());
  return out;
}

// The bind markers' specs and partition key indexes, and the result's columns.
prepared_result describe(const parsed_statement& parsed, const std::string& current_keyspace,
                         const connection_state& state) {
  prepared_result out;
  out.result.no_metadata = true;  // for statements that return no rows
  marker_specs markers{parsed.markers};
  const std::shared_lock lock{state.shared->db.mutex};
  std::optional<resolved_table> table;
  if (const auto* insert = std::get_if<insert_statement>(&parsed.body)) {
    table = resolve(insert->table, current_keyspace, state);
    for (std::size_t i = 0; i < insert->columns.size(); ++i) {
      markers.note(insert->values[i], *table, table->column(insert->columns[i]));
    }
  } else if (const auto* select = std::get_if<select_statement>(&parsed.body)) {
    table = resolve(select->table, current_keyspace, state);
    for (const relation& r : select->where) {
      if (r.on_token()) {
        check_token_arguments(r, *table);
        markers.note(r.value, *table, 0, token_marker_name, type_id::bigint);
      } else {
        markers.note(r.value, *table, table->column(r.column));
      }
    }
    if (select->limit) {
      markers.note(*select->limit, *table, 0, "[limit]");
    }
    out.result = select_result(*select, *table);
  }
  if (table && parsed.markers != 0) {
    out.variables.global_table = table_spec{table->keyspace, table->name};
  }
  markers.finish(out.variables);
  return out;
}

}  // namespace

void prepare_statement(byte_writer& out, std::int16_t stream, std::string_view text,
                       connection_state& state) {
  const std::size_t mark = out.size();
  try {
    auto prepared = std::make_shared<prepared_entry>();
    prepared->text = text;
    prepared->keyspace = state.keyspace;
    prepared->parsed = parse_statement(text);
    prepared_result result = describe(prepared->parsed, state.keyspace, state);
    prepared->id = statement_id(state.keyspace, text);
    result.id = prepared->id;
    state.shared->prepared.insert(std::move(prepared));
    write_response(out, stream, std::move(result));
  } catch (const statement_error& e) {
    answer_error(out, mark, stream, e);
  }
}

}  // namespace scopekit::cql::server_detail
