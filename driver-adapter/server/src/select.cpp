// select.cpp - SELECT: a plan (the columns, WHERE as a key and filters, LIMIT, where the page
// starts), a cursor over the table's rows, and the page written straight into the frame.
#include "bind.hpp"
#include "cursors.hpp"
#include "paging.hpp"
#include "query.hpp"

#include "scopekit/cql/protocol/rows.hpp"

#include <algorithm>
#include <limits>
#include <memory>
#include <shared_mutex>
#include <string>
#include <utility>

namespace scopekit::cql::server_detail {
namespace {

/// `column = value` in a WHERE clause, on a column that filters rather than picks a row.
struct condition {
  std::size_t column;
  std::vector<std::byte> bytes;
};

bool matches(row_cursor& rows, const std::vector<condition>& conditions) {
  return std::all_of(conditions.begin(), conditions.end(), [&](const condition& c) {
    const cell_view v = rows.cell(c.column);
    return v && std::equal(v->begin(), v->end(), c.bytes.begin(), c.bytes.end());
  });
}

/// What one request of a SELECT reads, and where its page starts.
struct select_plan {
  resolved_table table;
  std::vector<std::size_t> selected;          // column indexes, in the result's order
  std::optional<std::vector<std::byte>> key;  // WHERE on the partition key: that row only
  std::vector<condition> conditions;          // WHERE on other columns: filters
  std::optional<std::int64_t> limit;
  paging_position position;
  bool paged = false;
  std::int64_t room = 0;  // the most rows this page may hold
};

std::vector<std::size_t> selected_columns(const select_statement& s, const resolved_table& t) {
  std::vector<std::size_t> selected;
  if (s.columns) {
    for (const std::string& name : *s.columns) {
      selected.push_back(t.column(name));
    }
  } else {
    for (std::size_t i = 0; i < t.columns.size(); ++i) {
      selected.push_back(i);
    }
  }
  return selected;
}

// WHERE: the partition key picks one row; other columns filter (system tables, or with
// ALLOW FILTERING).
void bind_where(const select_statement& s, const query_parameters& parameters, select_plan& plan) {
  const resolved_table& t = plan.table;
  for (const relation& r : s.where) {
    const std::size_t column = t.column(r.column);
    bound_value v = bind_term(r.value, t.columns[column].type.type, parameters.values, r.column);
    if (v.state == bound_value::kind::null) {
      throw invalid("Invalid null value in condition for column " + r.column);
    }
    if (v.state == bound_value::kind::unset) {
      throw invalid("Invalid unset value for column " + r.column);
    }
    if (t.partition_key && column == *t.partition_key) {
      if (plan.key && *plan.key != v.bytes) {
        throw invalid(r.column +
                      " cannot be restricted by more than one relation if it "
                      "includes an Equal");
      }
      plan.key = std::move(v.bytes);
    } else {
      if (t.stored && !s.allow_filtering) {
        throw invalid(
            "Cannot execute this query as it might involve data filtering and thus may have "
            "unpredictable performance. If you want to execute this query despite the "
            "performance unpredictability, use ALLOW FILTERING");
      }
      plan.conditions.push_back({column, std::move(v.bytes)});
    }
  }
}

std::optional<std::int64_t> bind_limit(const select_statement& s,
                                       const query_parameters& parameters) {
  if (!s.limit) {
    return std::nullopt;
  }
  const bound_value v = bind_term(*s.limit, type_id::int_, parameters.values, "[limit]");
  if (v.state != bound_value::kind::set) {
    throw invalid("Invalid null or unset value for limit");
  }
  const std::int64_t limit = decode_int(value_view{v.bytes}, "[limit]");  // -1 is not 2^32 - 1
  if (limit <= 0) {
    throw invalid("LIMIT must be strictly positive");
  }
  return limit;
}

paging_position start_position(const query_parameters& parameters) {
  if (!parameters.paging_state || parameters.paging_state->empty()) {
    return {};
  }
  auto decoded = decode_position(*parameters.paging_state);
  if (!decoded) {
    throw statement_error(error_code::protocol_error,
                          "Invalid value for the paging state: not one this server wrote");
  }
  return std::move(*decoded);
}

// The caller holds the database's mutex (shared) for as long as it uses the plan.
select_plan plan_select(const select_statement& s, const std::string& current_keyspace,
                        const query_parameters& parameters, const connection_state& state) {
  select_plan plan;
  plan.table = resolve(s.table, current_keyspace, state);
  plan.selected = selected_columns(s, plan.table);
  bind_where(s, parameters, plan);
  plan.limit = bind_limit(s, parameters);
  plan.position = start_position(parameters);
  plan.paged = parameters.page_size && *parameters.page_size > 0;
  plan.room = state.context->max_result_rows;
  if (plan.paged) {
    plan.room = std::min<std::int64_t>(plan.room, *parameters.page_size);
  }
  if (plan.limit) {
    plan.room = std::min(plan.room, std::max<std::int64_t>(*plan.limit - plan.position.rows, 0));
  }
  return plan;
}

// A system table's rows, serialized once for the cursor.
std::vector<stored_row> serialized_rows(const virtual_table& system) {
  std::vector<stored_row> out;
  for (const auto& values : system.rows) {
    stored_row row;
    for (std::size_t i = 0; i < values.size(); ++i) {
      if (values[i].is_null()) {
        row.emplace_back();
      } else {
        row.emplace_back(serialize_value(system.columns[i].type.type, values[i]));
      }
    }
    out.push_back(std::move(row));
  }
  return out;
}

[[noreturn]] void forged_key() {
  throw statement_error(error_code::protocol_error,
                        "Invalid value for the paging state: its key is not one of this table's");
}

// The id after a paging state's key in a table whose keys are ids (synthetic and system
// tables): 0 without a key; a key that is not an id from 0 was never written by the server.
std::int64_t id_after(const std::optional<std::vector<std::byte>>& after) {
  if (after && (after->size() != 8 || bigint_of(*after) < 0)) {
    forged_key();
  }
  return next_id(after);
}

// The rows the plan reads, from where its page starts; `system_rows` must outlive the cursor.
std::unique_ptr<row_cursor> open_cursor(const select_plan& plan,
                                        const std::vector<stored_row>& system_rows) {
  const resolved_table& t = plan.table;
  const auto& after = plan.position.after;
  if (t.system) {
    const auto begin = static_cast<std::uint64_t>(id_after(after));
    return make_system_cursor(system_rows, std::min<std::uint64_t>(begin, system_rows.size()));
  }
  if (t.stored->synthetic_rows) {
    const std::int64_t n = *t.stored->synthetic_rows;
    std::int64_t begin = id_after(after);
    std::int64_t end = n;
    if (plan.key) {
      const std::int64_t id = plan.key->size() == 8 ? bigint_of(*plan.key) : -1;
      begin = std::max(begin, id);
      end = id >= 0 && id < n ? id + 1 : 0;
    }
    return make_synthetic_cursor(begin, end);
  }
  return make_stored_cursor(*t.stored, after, plan.key);
}

result_metadata rows_metadata(const select_plan& plan, bool skip_metadata) {
  const resolved_table& t = plan.table;
  result_metadata metadata;
  metadata.column_count = static_cast<std::int32_t>(plan.selected.size());
  if (skip_metadata) {
    metadata.no_metadata = true;
    return metadata;
  }
  metadata.global_table = table_spec{t.keyspace, t.name};
  for (const std::size_t i : plan.selected) {
    metadata.columns.push_back(
        column_spec{*metadata.global_table, t.columns[i].name, t.columns[i].type.type});
  }
  return metadata;
}

// Where a Rows body's paging state starts, when it has one (spec 4.2.5.2): after the kind,
// the metadata's flags and column count, and the paging state's own length, an [int] each.
constexpr std::size_t paging_state_offset = 4 + 4 + 4 + 4;

// fault::action::empty_pages: a page without rows that still says there is more.
void write_empty_page(byte_writer& out, std::int16_t stream, result_metadata metadata,
                      const paging_position& position) {
  paging_position next = position;
  next.page += 1;
  next.empties += 1;
  metadata.paging_state = encode_position(next);
  const std::size_t start = begin_frame(out, response_version, 0, stream, opcode::result);
  rows_encoder(out, metadata).finish();
  end_frame(out, start);
}

// What fill_page wrote.
struct page_fill {
  std::int64_t count = 0;
  bool more = false;    // rows are left after this page
  bool marked = false;  // the cursor has marked the last row written
};

// Adds the rows of this page to `page`, which writes into `buffer`.
page_fill fill_page(rows_encoder& page, const std::vector<std::byte>& buffer, row_cursor& rows,
                    const select_plan& plan, std::size_t max_frame_body) {
  page_fill fill;
  while (rows.next()) {
    if (!matches(rows, plan.conditions)) {
      continue;
    }
    if (fill.count == plan.room) {
      fill.more = true;
      break;
    }
    rows.append_row(page, plan.selected);
    ++fill.count;
    rows.mark();
    fill.marked = true;
    if (buffer.size() - page.cells_start() > max_frame_body) {
      throw invalid("the result does not fit in one frame (the frame limit is " +
                    std::to_string(max_frame_body) +
                    " bytes); ask for it in pages (set a page size)");
    }
  }
  if (plan.limit && plan.position.rows + fill.count >= *plan.limit) {
    fill.more = false;  // LIMIT reached: this is the last page
  }
  if (fill.more && !plan.paged) {
    throw invalid("Unpaged SELECT returns more than " + std::to_string(plan.room) +
                  " rows, the limit of scopekit's embedded CQL server "
                  "(server_options::max_result_rows); set a page size to read them in pages");
  }
  return fill;
}

// The paging state this page ends with, if more pages follow.
std::optional<std::vector<std::byte>> next_paging_state(const select_plan& plan,
                                                        const page_fill& fill,
                                                        const row_cursor& rows) {
  if (!fill.more || !plan.paged) {
    return std::nullopt;
  }
  paging_position next;
  next.page = plan.position.page + 1;
  next.rows = plan.position.rows + fill.count;
  next.after = fill.marked ? std::optional{rows.marked_key()} : plan.position.after;
  return encode_position(next);
}

// Replaces the prefix (kind, metadata, rows_count) at `prefix_start` of `buffer` by the one of
// `metadata`, keeping its rows_count and moving the cells that follow it.
void rewrite_prefix(std::vector<std::byte>& buffer, std::size_t prefix_start,
                    std::size_t cells_start, const result_metadata& metadata) {
  std::vector<std::byte> prefix;
  byte_writer w{prefix};
  (void)rows_encoder(w, metadata);  // the kind, the metadata and a rows_count, no cells
  std::copy(buffer.begin() + static_cast<std::ptrdiff_t>(cells_start - 4),
            buffer.begin() + static_cast<std::ptrdiff_t>(cells_start), prefix.end() - 4);
  const std::size_t old_size = cells_start - prefix_start;
  const std::size_t cells_size = buffer.size() - cells_start;
  if (prefix.size() > old_size) {
    buffer.resize(buffer.size() + (prefix.size() - old_size));
  }
  const auto cells_from = buffer.begin() + static_cast<std::ptrdiff_t>(cells_start);
  const auto cells_to = buffer.begin() + static_cast<std::ptrdiff_t>(prefix_start + prefix.size());
  if (cells_to < cells_from) {
    std::copy(cells_from, cells_from + static_cast<std::ptrdiff_t>(cells_size), cells_to);
  } else {
    std::copy_backward(cells_from, cells_from + static_cast<std::ptrdiff_t>(cells_size),
                       cells_to + static_cast<std::ptrdiff_t>(cells_size));
  }
  buffer.resize(prefix_start + prefix.size() + cells_size);
  std::copy(prefix.begin(), prefix.end(),
            buffer.begin() + static_cast<std::ptrdiff_t>(prefix_start));
}

// Writes the RESULT frame of one page of `rows`. The cells go straight into `out`, after a
// prefix (frame header, kind, metadata, rows_count) written first with the paging state this
// page will most likely end with: a full page followed by more, whose last key has the size of
// the key it started after (8 bytes, a bigint, on a first page). When the guess is wrong (the
// last page; keys of another size) the prefix is rewritten and the cells moved, once.
// Returns the number of rows written.
std::int64_t write_rows_page(byte_writer& out, std::int16_t stream, row_cursor& rows,
                             const select_plan& plan, result_metadata metadata,
                             std::size_t max_frame_body) {
  std::vector<std::byte>& buffer = out.buffer();
  const std::size_t start = buffer.size();
  if (plan.paged) {
    paging_position guess;
    guess.after = std::vector<std::byte>(plan.position.after ? plan.position.after->size() : 8);
    metadata.paging_state = std::vector<std::byte>(encode_position(guess).size());
  }
  begin_frame(out, response_version, 0, stream, opcode::result);
  rows_encoder page(out, metadata);
  page_fill fill;
  try {
    fill = fill_page(page, buffer, rows, plan, max_frame_body);
    page.finish();
  } catch (...) {
    buffer.resize(start);  // no partial frame: the caller answers with an ERROR instead
    throw;
  }
  std::optional<std::vector<std::byte>> paging_state = next_paging_state(plan, fill, rows);
  const std::size_t prefix_start = start + header_size;
  if (paging_state && metadata.paging_state &&
      paging_state->size() == metadata.paging_state->size()) {
    // The guess was right: the paging state goes where its placeholder is.
    std::copy(paging_state->begin(), paging_state->end(),
              buffer.begin() + static_cast<std::ptrdiff_t>(prefix_start + paging_state_offset));
  } else {
    metadata.paging_state = std::move(paging_state);
    rewrite_prefix(buffer, prefix_start, page.cells_start(), metadata);
  }
  end_frame(out, start);
  return fill.count;
}

}  // namespace

void run_select(byte_writer& out, std::int16_t stream, const select_statement& s,
                const std::string& current_keyspace, const query_parameters& parameters,
                connection_state& state, std::int32_t empty_pages) {
  const std::shared_lock lock{state.shared->db.mutex};
  const select_plan plan = plan_select(s, current_keyspace, parameters, state);
  const std::vector<stored_row> system_rows =
      plan.table.system ? serialized_rows(*plan.table.system) : std::vector<stored_row>{};
  const std::unique_ptr<row_cursor> rows = open_cursor(plan, system_rows);
  result_metadata metadata = rows_metadata(plan, parameters.skip_metadata);
  node_counters& counters = state.shared->counters;
  if (plan.paged && plan.position.empties < std::min(empty_pages, max_empty_pages)) {
    write_empty_page(out, stream, std::move(metadata), plan.position);
    counters.pages.fetch_add(1, std::memory_order_relaxed);
    return;
  }
  const std::int64_t count = write_rows_page(out, stream, *rows, plan, std::move(metadata),
                                             state.context->max_frame_body);
  counters.pages.fetch_add(1, std::memory_order_relaxed);
  counters.rows.fetch_add(static_cast<std::uint64_t>(count), std::memory_order_relaxed);
}

}  // namespace scopekit::cql::server_detail
