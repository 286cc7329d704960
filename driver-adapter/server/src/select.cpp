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
  std::vector<output_column> output;          // the result's columns
  std::vector<std::size_t> selected;          // their column indexes (when none is a token)
  bool token_selected = false;                // some result column is token(column)
  std::optional<std::vector<std::byte>> key;  // WHERE on the partition key: that row only
  std::vector<condition> conditions;          // WHERE on other columns: filters
  token_range tokens;                         // WHERE token(key) ...: the tokens read
  std::optional<std::int64_t> limit;
  paging_position position;
  bool paged = false;
  std::int64_t room = 0;  // the most rows this page may hold
};

void select_columns(const select_statement& s, select_plan& plan) {
  plan.output = resolve_selection(s.columns, plan.table);
  for (const output_column& c : plan.output) {
    plan.selected.push_back(c.column);
    plan.token_selected = plan.token_selected || c.token;
  }
}

// The token relations of a WHERE clause, merged as Cassandra 3.11 merges them (its messages).
class token_restriction {
public:
  explicit token_restriction(std::string key) : key_(std::move(key)) {}

  void add(relation::comparison op, std::int64_t value) {
    using enum relation::comparison;
    if (op == eq) {
      if (start_ || end_) {
        throw invalid("Columns \"" + key_ +
                      "\" cannot be restricted by both an equality and an inequality relation");
      }
      if (eq_) {
        throw more_than_one_with_equal();
      }
      eq_ = value;
      return;
    }
    if (eq_) {
      throw more_than_one_with_equal();
    }
    const bool start = op == gt || op == ge;
    std::optional<bound>& b = start ? start_ : end_;
    if (b) {
      throw invalid(std::string("More than one restriction was found for the ") +
                    (start ? "start" : "end") + " bound on " + key_);
    }
    b = bound{value, op == ge || op == le};
  }

  [[nodiscard]] bool any() const noexcept { return eq_ || start_ || end_; }

  // The tokens the relations admit. As in Cassandra, an end bound at the minimum token is no
  // end: (t, minimum] is the range from t to the end of the ring (the drivers' unwrapped
  // last range).
  [[nodiscard]] token_range range() const noexcept {
    if (eq_) {
      return {*eq_, *eq_};
    }
    token_range out;
    if (start_) {
      if (!start_->inclusive && start_->value == maximum_token) {
        return {maximum_token, minimum_token};  // empty
      }
      out.first = start_->inclusive ? start_->value : start_->value + 1;
    }
    if (end_ && end_->value != minimum_token) {
      out.last = end_->inclusive ? end_->value : end_->value - 1;
    }
    return out;
  }

private:
  struct bound {
    std::int64_t value;
    bool inclusive;
  };

  statement_error more_than_one_with_equal() const {
    return invalid(key_ + " cannot be restricted by more than one relation if it includes an Equal");
  }

  std::string key_;
  std::optional<std::int64_t> eq_;
  std::optional<bound> start_;
  std::optional<bound> end_;
};

// A token relation's value: a bigint, not null.
std::int64_t bind_token(const term& value, const query_parameters& parameters) {
  const bound_value v = bind_term(value, type_id::bigint, parameters.values, token_marker_name);
  if (v.state == bound_value::kind::null) {
    throw invalid("Invalid null value for " + std::string(token_marker_name));
  }
  if (v.state == bound_value::kind::unset) {
    throw invalid("Invalid unset value for " + std::string(token_marker_name));
  }
  return bigint_of(v.bytes);
}

// WHERE: the partition key picks one row; token(key) picks a range of tokens; other columns
// filter (system tables, or with ALLOW FILTERING).
void bind_where(const select_statement& s, const query_parameters& parameters, select_plan& plan) {
  const resolved_table& t = plan.table;
  const std::string& key_name = t.columns[t.token_key].name;
  token_restriction tokens{key_name};
  bool key_relation = false;
  const auto both = [&] {
    return invalid("Columns \"" + key_name +
                   "\" cannot be restricted by both a normal relation and a token relation");
  };
  for (const relation& r : s.where) {
    if (r.on_token()) {
      check_token_arguments(r, t);
      if (key_relation) {
        throw both();
      }
      tokens.add(r.op, bind_token(r.value, parameters));
      continue;
    }
    const std::size_t column = t.column(r.column);
    if (column == t.token_key) {
      if (tokens.any()) {
        throw both();
      }
      key_relation = true;
    }
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
  plan.tokens = tokens.range();
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
  select_columns(s, plan);
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

// A system table's rows with tokens in the plan's range, serialized once for the cursor, in
// token order (then by key; rows of one partition keep their order).
std::vector<stored_row> serialized_rows(const virtual_table& system, const select_plan& plan) {
  std::vector<std::pair<std::vector<std::byte>, stored_row>> keyed;
  const std::size_t key = plan.table.token_key;
  for (const auto& values : system.rows) {
    stored_row row;
    for (std::size_t i = 0; i < values.size(); ++i) {
      if (values[i].is_null()) {
        row.emplace_back();
      } else {
        row.emplace_back(serialize_value(system.columns[i].type.type, values[i]));
      }
    }
    std::vector<std::byte> k = row_key(row[key] ? std::span<const std::byte>(*row[key])
                                                : std::span<const std::byte>{});
    if (plan.tokens.contains(token_of_row_key(k))) {
      keyed.emplace_back(std::move(k), std::move(row));
    }
  }
  std::stable_sort(keyed.begin(), keyed.end(),
                   [](const auto& a, const auto& b) { return bytes_less{}(a.first, b.first); });
  std::vector<stored_row> out;
  out.reserve(keyed.size());
  for (auto& entry : keyed) {
    out.push_back(std::move(entry.second));
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
    } else if (plan.tokens.empty()) {
      end = 0;
    } else {
      // Ids are placed on the ring in order (database.hpp): a token range is an id interval.
      begin = std::max(begin, synthetic_first_id(plan.tokens.first, n));
      if (plan.tokens.last != maximum_token) {
        end = synthetic_first_id(plan.tokens.last + 1, n);
      }
    }
    return make_synthetic_cursor(begin, end);
  }
  return make_stored_cursor(*t.stored, after, plan.key, plan.tokens);
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
  metadata.columns = selection_specs(t, plan.output);
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

// Adds the current row's result columns to `page`, computing the tokens of token(column): a
// synthetic table's placement of the id (database.hpp), else the Murmur3 token of the cell.
void append_with_tokens(rows_encoder& page, row_cursor& rows, const select_plan& plan) {
  // Not an optional: GCC 12 at -O3 takes a copied std::optional<int64_t> for uninitialized.
  const bool synthetic = plan.table.stored && plan.table.stored->synthetic_rows;
  const std::int64_t synthetic_rows = synthetic ? *plan.table.stored->synthetic_rows : 0;
  for (const output_column& c : plan.output) {
    const cell_view v = rows.cell(c.column);
    if (!v) {
      page.add_null();
    } else if (!c.token) {
      page.add_cell(*v);
    } else {
      page.add_bigint(synthetic ? synthetic_token(bigint_of(*v), synthetic_rows)
                                : murmur3_token(*v));
    }
  }
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
    if (plan.token_selected) {
      append_with_tokens(page, rows, plan);
    } else {
      rows.append_row(page, plan.selected);
    }
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
      plan.table.system ? serialized_rows(*plan.table.system, plan) : std::vector<stored_row>{};
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
