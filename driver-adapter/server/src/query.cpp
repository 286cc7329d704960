// query.cpp - running statements against the database: schema changes, USE, INSERT, and SELECT
// with filtering, LIMIT and paging over stored, synthetic and system tables; PREPARE.
#include "bind.hpp"
#include "connection_session.hpp"
#include "system_tables.hpp"

#include "scopekit/cql/protocol/response.hpp"
#include "scopekit/cql/protocol/rows.hpp"

#include <algorithm>
#include <charconv>
#include <cstring>
#include <limits>
#include <mutex>
#include <shared_mutex>
#include <span>
#include <string>
#include <utility>

namespace scopekit::cql::server_detail {
namespace {

// ---- Paging state -----------------------------------------------------------------------------
//
// 'S' 'K' 0x01, [int] page, [long] rows served, [byte] empty pages served at this position,
// [byte] has_key, then the key of the last row served (the rest). Opaque to clients.

constexpr std::array<std::byte, 3> paging_magic = {std::byte{'S'}, std::byte{'K'}, std::byte{1}};
constexpr std::size_t paging_header_size = 3 + 4 + 8 + 1 + 1;
// The most empty pages sent before a page with rows (fault::action::empty_pages): the count
// served so far is a [byte] of the paging state.
constexpr std::int32_t max_empty_pages = 255;

struct paging_position {
  std::int32_t page = 0;
  std::int64_t rows = 0;
  std::uint8_t empties = 0;
  std::optional<std::vector<std::byte>> after;  // nullopt: from the first row
};

std::vector<std::byte> encode_position(const paging_position& p) {
  std::vector<std::byte> out;
  out.reserve(paging_header_size + (p.after ? p.after->size() : 0));
  byte_writer w{out};
  for (const std::byte b : paging_magic) {
    w.write_byte(std::to_integer<std::uint8_t>(b));
  }
  w.write_int(p.page);
  w.write_long(p.rows);
  w.write_byte(p.empties);
  w.write_byte(p.after ? 1 : 0);
  if (p.after) {
    w.write_raw(*p.after);
  }
  return out;
}

std::optional<paging_position> decode_position(std::span<const std::byte> bytes) {
  if (bytes.size() < paging_header_size ||
      !std::equal(paging_magic.begin(), paging_magic.end(), bytes.begin())) {
    return std::nullopt;
  }
  byte_reader r{bytes.subspan(paging_magic.size())};
  paging_position p;
  p.page = r.read_int("paging_state.page");
  p.rows = r.read_long("paging_state.rows");
  p.empties = r.read_byte("paging_state.empties");
  const std::uint8_t has_key = r.read_byte("paging_state.has_key");
  if (p.page < 0 || p.rows < 0 || has_key > 1) {
    return std::nullopt;
  }
  if (has_key == 1) {
    const auto rest = r.read_raw(r.remaining(), "paging_state.key");
    p.after.emplace(rest.begin(), rest.end());
  }
  return p;
}

// ---- Helpers ----------------------------------------------------------------------------------

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

// Cassandra's words for a table that does not exist.
std::string unconfigured(const std::string& table) {
  std::string message = "unconfigured table ";
  message.append(table);
  return message;
}

// The columns of a table a statement names: a stored table's or a system table's.
struct resolved_table {
  std::string keyspace;
  std::string name;
  std::vector<column_definition> columns;
  std::optional<std::size_t> partition_key;  // nullopt for system tables
  std::shared_ptr<table> stored;             // null for system tables
  std::optional<virtual_table> system;       // engaged for system tables

  std::size_t column(const std::string& column_name) const {
    for (std::size_t i = 0; i < columns.size(); ++i) {
      if (columns[i].name == column_name) {
        return i;
      }
    }
    throw invalid("Undefined column name " + column_name);
  }
};

// Finds the table; the caller holds db.mutex (shared at least).
resolved_table resolve(const qualified_name& name, const std::string& current,
                       const connection_state& state) {
  resolved_table out;
  out.keyspace = keyspace_for(name, current);
  out.name = name.name;
  const database& db = state.shared->db;
  if (is_system_keyspace(out.keyspace)) {
    out.system = system_table(out.keyspace, out.name, db, state.context->local_address);
    if (!out.system) {
      throw invalid(unconfigured(out.name));
    }
    out.columns = out.system->columns;
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
  return out;
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

// ---- Rows cursors -----------------------------------------------------------------------------

using cell_view = std::optional<std::span<const std::byte>>;

/// Walks a table's rows in key order from a position: the current row's cells, and its key on
/// demand.
class row_cursor {
public:
  row_cursor() = default;
  row_cursor(const row_cursor&) = delete;
  row_cursor& operator=(const row_cursor&) = delete;
  virtual ~row_cursor() = default;
  /// Moves to the next row; false past the last.
  virtual bool next() = 0;
  virtual cell_view cell(std::size_t column) = 0;
  /// Remembers the current row's position (cheaply: no allocation).
  virtual void mark() = 0;
  /// The position mark() remembered, for a paging state.
  virtual std::vector<std::byte> marked_key() const = 0;
  /// Appends the cells `columns` of the current row to `out`, each as [bytes] (a cursor that
  /// computes its rows writes them in place, without making each cell first).
  virtual void append_row(std::vector<std::byte>& out, std::span<const std::size_t> columns);

protected:
  row_cursor(row_cursor&&) = default;
  row_cursor& operator=(row_cursor&&) = default;
};

class stored_cursor final : public row_cursor {
public:
  // All rows after `after`, or only the row with key `only`.
  stored_cursor(const table& t, const std::optional<std::vector<std::byte>>& after,
                const std::optional<std::vector<std::byte>>& only)
      : rows_(&t.rows) {
    if (only) {
      it_ = rows_->find(*only);
      end_ = it_ == rows_->end() ? it_ : std::next(it_);
      if (after && it_ != end_ && !bytes_less{}(*after, it_->first)) {
        it_ = end_;
      }
    } else {
      it_ = after ? rows_->upper_bound(*after) : rows_->begin();
      end_ = rows_->end();
    }
  }
  bool next() override {
    if (first_) {
      first_ = false;
    } else if (it_ != end_) {
      ++it_;
    }
    return it_ != end_;
  }
  cell_view cell(std::size_t column) override {
    const server_detail::cell& c = it_->second[column];
    if (!c) {
      return std::nullopt;
    }
    return std::span<const std::byte>(*c);
  }
  void mark() override { marked_ = it_; }
  std::vector<std::byte> marked_key() const override { return marked_->first; }

private:
  using row_map = std::map<std::vector<std::byte>, stored_row, bytes_less>;
  const row_map* rows_;
  row_map::const_iterator it_;
  row_map::const_iterator end_;
  row_map::const_iterator marked_;
  bool first_ = true;
};

std::array<std::byte, 8> bigint_bytes(std::int64_t v) noexcept {
  std::array<std::byte, 8> out{};
  for (std::size_t i = 0; i < 8; ++i) {
    out[i] = static_cast<std::byte>((static_cast<std::uint64_t>(v) >> (56 - 8 * i)) & 0xFFU);
  }
  return out;
}

std::int64_t bigint_of(std::span<const std::byte> bytes) noexcept {
  std::uint64_t v = 0;
  for (const std::byte b : bytes) {
    v = (v << 8U) | std::to_integer<std::uint64_t>(b);
  }
  return static_cast<std::int64_t>(v);
}

// The id after `after`, the key of the last row served from a synthetic or system table (whose
// keys are ids); 0 without one. The key comes from the client: the largest id has no next one.
std::int64_t next_id(const std::optional<std::vector<std::byte>>& after) noexcept {
  if (!after) {
    return 0;
  }
  const std::int64_t last = bigint_of(*after);
  return last == std::numeric_limits<std::int64_t>::max() ? last : last + 1;
}

class synthetic_cursor final : public row_cursor {
public:
  // Ids in [begin, end).
  synthetic_cursor(std::int64_t begin, std::int64_t end) : next_(begin), end_(end) {}
  bool next() override {
    if (next_ >= end_) {
      return false;
    }
    id_ = next_++;
    cells_made_ = false;
    return true;
  }
  cell_view cell(std::size_t column) override {
    if (!cells_made_) {
      id_bytes_ = bigint_bytes(id_);
      name_current();
      synthetic_payload(id_, payload_);
      cells_made_ = true;
    }
    switch (column) {
      case 0:
        return std::span<const std::byte>(id_bytes_);
      case 1:
        return std::as_bytes(std::span<const char>(name_.data(), name_size_));
      default:
        return std::span<const std::byte>(payload_);
    }
  }
  void mark() override { marked_ = id_; }
  std::vector<std::byte> marked_key() const override {
    const auto bytes = bigint_bytes(marked_);
    return {bytes.begin(), bytes.end()};
  }
  // Every row of a large synthetic table goes through here: each cell is written where it goes.
  void append_row(std::vector<std::byte>& out, std::span<const std::size_t> columns) override {
    name_current();
    std::size_t size = 0;
    for (const std::size_t c : columns) {
      size += 4 + (c == 0 ? 8 : c == 1 ? name_size_ : synthetic_payload_size);
    }
    const std::size_t at = out.size();
    out.resize(at + size);
    std::byte* p = out.data() + at;
    for (const std::size_t c : columns) {
      if (c == 0) {
        p = put_int(p, 8);
        const auto id = bigint_bytes(id_);
        p = std::copy(id.begin(), id.end(), p);
      } else if (c == 1) {
        p = put_int(p, static_cast<std::uint32_t>(name_size_));
        std::memcpy(p, name_.data(), name_size_);
        p += name_size_;
      } else {
        p = put_int(p, static_cast<std::uint32_t>(synthetic_payload_size));
        synthetic_payload(id_,
                          std::span<std::byte, synthetic_payload_size>(p, synthetic_payload_size));
        p += synthetic_payload_size;
      }
    }
  }

private:
  static std::byte* put_int(std::byte* p, std::uint32_t n) noexcept {
    for (unsigned shift = 24;; shift -= 8) {
      *p++ = static_cast<std::byte>((n >> shift) & 0xFFU);
      if (shift == 0) {
        return p;
      }
    }
  }

  // Makes name_ "row-" and the digits of id_. Rows come in order of id, so the digits of the
  // previous row are usually incremented in place (cheaper than converting); a carry out of
  // the first digit, a negative id or a jump converts.
  void name_current() noexcept {
    if (named_ && id_ == named_id_) {
      return;
    }
    if (named_ && named_id_ >= 0 && id_ == named_id_ + 1) {
      for (std::size_t i = name_size_; i-- > 4;) {
        if (name_[i] != '9') {
          ++name_[i];
          named_id_ = id_;
          return;
        }
        name_[i] = '0';
      }
    }
    const auto result = std::to_chars(name_.data() + 4, name_.data() + name_.size(), id_);
    name_size_ = static_cast<std::size_t>(result.ptr - name_.data());
    named_id_ = id_;
    named_ = true;
  }

  std::int64_t next_;
  std::int64_t end_;
  std::int64_t id_ = 0;
  bool cells_made_ = false;
  std::int64_t marked_ = 0;
  std::array<std::byte, 8> id_bytes_{};
  std::array<char, 4 + 20> name_{'r', 'o', 'w', '-'};  // "row-" and at most 20 digits
  std::size_t name_size_ = 4;
  std::int64_t named_id_ = 0;  // whose digits name_ holds, once named_
  bool named_ = false;
  std::array<std::byte, synthetic_payload_size> payload_{};
};

class system_cursor final : public row_cursor {
public:
  // The rows of `rows` from index `begin`.
  system_cursor(const std::vector<stored_row>& rows, std::size_t begin)
      : rows_(&rows), next_(begin) {}
  bool next() override {
    if (next_ >= rows_->size()) {
      return false;
    }
    current_ = next_++;
    return true;
  }
  cell_view cell(std::size_t column) override {
    const server_detail::cell& c = (*rows_)[current_][column];
    if (!c) {
      return std::nullopt;
    }
    return std::span<const std::byte>(*c);
  }
  void mark() override { marked_ = current_; }
  std::vector<std::byte> marked_key() const override {
    const auto bytes = bigint_bytes(static_cast<std::int64_t>(marked_));
    return {bytes.begin(), bytes.end()};
  }

private:
  const std::vector<stored_row>* rows_;
  std::size_t next_;
  std::size_t current_ = 0;
  std::size_t marked_ = 0;
};

// Appends a [bytes] cell (inserting, not resizing: no zero fill before the copy).
void append_cell(std::vector<std::byte>& out, const cell_view& c) {
  const std::size_t size = c ? c->size() : 0;
  const auto length = static_cast<std::uint32_t>(c ? static_cast<std::int32_t>(size) : -1);
  const std::array<std::byte, 4> header = {
      static_cast<std::byte>(length >> 24U), static_cast<std::byte>((length >> 16U) & 0xFFU),
      static_cast<std::byte>((length >> 8U) & 0xFFU), static_cast<std::byte>(length & 0xFFU)};
  out.insert(out.end(), header.begin(), header.end());
  if (size != 0) {
    out.insert(out.end(), c->begin(), c->end());
  }
}

void row_cursor::append_row(std::vector<std::byte>& out, std::span<const std::size_t> columns) {
  for (const std::size_t c : columns) {
    append_cell(out, cell(c));
  }
}

// ---- SELECT -----------------------------------------------------------------------------------

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

// The start of a Rows body: the kind, the metadata, and a rows_count of 0 to fill in.
void write_rows_prefix(byte_writer& out, const result_metadata& metadata) {
  out.write_int(static_cast<std::int32_t>(result_kind::rows));
  write_result_metadata(out, metadata);
  out.write_int(0);
}

// Where a Rows body's paging state starts, when it has one (spec 4.2.5.2): after the kind,
// the metadata's flags and column count, and the paging state's own length, an [int] each.
constexpr std::size_t paging_state_offset = 4 + 4 + 4 + 4;

// Writes the RESULT frame of one page of `rows`. The cells go straight into `out`, after a
// prefix (frame header, kind, metadata, rows_count) written first with the paging state this
// page will most likely end with: a full page followed by more, whose last key has the size of
// the key it started after (8 bytes, a bigint, on a first page). When the guess is wrong (the
// last page; keys of another size) the prefix is rewritten and the cells moved, once.
void write_rows_page(byte_writer& out, std::int16_t stream, row_cursor& rows,
                     const std::vector<std::size_t>& selected,
                     const std::vector<condition>& conditions, result_metadata metadata,
                     const paging_position& position, std::int64_t room,
                     const std::optional<std::int64_t>& limit, bool paged,
                     std::size_t max_frame_body) {
  std::vector<std::byte>& buffer = out.buffer();
  const std::size_t start = buffer.size();
  if (paged) {
    paging_position guess;
    guess.after = std::vector<std::byte>(position.after ? position.after->size() : 8);
    metadata.paging_state = std::vector<std::byte>(encode_position(guess).size());
  }
  begin_frame(out, response_version, 0, stream, opcode::result);
  write_rows_prefix(out, metadata);
  std::size_t cells_start = buffer.size();

  std::int64_t count = 0;
  bool more = false;
  bool marked = false;  // the cursor has marked the last row written
  try {
    while (rows.next()) {
      if (!matches(rows, conditions)) {
        continue;
      }
      if (count == room) {
        more = true;
        break;
      }
      rows.append_row(buffer, selected);
      ++count;
      rows.mark();
      marked = true;
      if (buffer.size() - cells_start > max_frame_body) {
        throw invalid(
            "the result does not fit in one frame (the frame limit is " +
            std::to_string(max_frame_body) + " bytes); ask for it in pages (set a page size)");
      }
    }
  } catch (...) {
    buffer.resize(start);  // no partial frame: the caller answers with an ERROR instead
    throw;
  }
  if (limit && position.rows + count >= *limit) {
    more = false;  // LIMIT reached: this is the last page
  }
  std::optional<std::vector<std::byte>> paging_state;
  if (more && paged) {
    paging_position next;
    next.page = position.page + 1;
    next.rows = position.rows + count;
    next.after = marked ? std::optional{rows.marked_key()} : position.after;
    paging_state = encode_position(next);
  }

  const std::size_t prefix_start = start + header_size;
  if (paging_state && metadata.paging_state &&
      paging_state->size() == metadata.paging_state->size()) {
    // The guess was right: the paging state goes where its placeholder is.
    std::copy(paging_state->begin(), paging_state->end(),
              buffer.begin() + static_cast<std::ptrdiff_t>(prefix_start + paging_state_offset));
  } else {
    metadata.paging_state = std::move(paging_state);
    std::vector<std::byte> prefix;
    byte_writer w{prefix};
    write_rows_prefix(w, metadata);
    const std::size_t old_size = cells_start - prefix_start;
    const std::size_t cells_size = buffer.size() - cells_start;
    if (prefix.size() > old_size) {
      buffer.resize(buffer.size() + (prefix.size() - old_size));
    }
    const auto cells_from = buffer.begin() + static_cast<std::ptrdiff_t>(cells_start);
    const auto cells_to =
        buffer.begin() + static_cast<std::ptrdiff_t>(prefix_start + prefix.size());
    if (cells_to < cells_from) {
      std::copy(cells_from, cells_from + static_cast<std::ptrdiff_t>(cells_size), cells_to);
    } else {
      std::copy_backward(cells_from, cells_from + static_cast<std::ptrdiff_t>(cells_size),
                         cells_to + static_cast<std::ptrdiff_t>(cells_size));
    }
    buffer.resize(prefix_start + prefix.size() + cells_size);
    std::copy(prefix.begin(), prefix.end(),
              buffer.begin() + static_cast<std::ptrdiff_t>(prefix_start));
    cells_start = prefix_start + prefix.size();
  }
  out.patch_int(cells_start - 4, static_cast<std::int32_t>(count));
  end_frame(out, start);
}

void run_select(byte_writer& out, std::int16_t stream, const select_statement& s,
                const std::string& current_keyspace, const query_parameters& parameters,
                connection_state& state, std::int32_t empty_pages) {
  const std::shared_lock lock{state.shared->db.mutex};
  resolved_table t = resolve(s.table, current_keyspace, state);

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

  // WHERE: the partition key picks one row; other columns filter (system tables, or with
  // ALLOW FILTERING).
  std::optional<std::vector<std::byte>> key;
  std::vector<condition> conditions;
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
      if (key && *key != v.bytes) {
        throw invalid(r.column + " cannot be restricted by more than one relation if it "
                                 "includes an Equal");
      }
      key = std::move(v.bytes);
    } else {
      if (t.stored && !s.allow_filtering) {
        throw invalid(
            "Cannot execute this query as it might involve data filtering and thus may have "
            "unpredictable performance. If you want to execute this query despite the "
            "performance unpredictability, use ALLOW FILTERING");
      }
      conditions.push_back({column, std::move(v.bytes)});
    }
  }

  std::optional<std::int64_t> limit;
  if (s.limit) {
    const bound_value v = bind_term(*s.limit, type_id::int_, parameters.values, "[limit]");
    if (v.state != bound_value::kind::set) {
      throw invalid("Invalid null or unset value for limit");
    }
    limit = decode_int(value_view{v.bytes}, "[limit]");  // an int: -1 is not 2^32 - 1
    if (*limit <= 0) {
      throw invalid("LIMIT must be strictly positive");
    }
  }

  paging_position position;
  if (parameters.paging_state && !parameters.paging_state->empty()) {
    auto decoded = decode_position(*parameters.paging_state);
    if (!decoded) {
      throw statement_error(error_code::protocol_error,
                            "Invalid value for the paging state: not one this server wrote");
    }
    position = std::move(*decoded);
  }
  const bool paged = parameters.page_size && *parameters.page_size > 0;
  std::int64_t room = paged ? *parameters.page_size : std::numeric_limits<std::int64_t>::max();
  if (limit) {
    room = std::min(room, std::max<std::int64_t>(*limit - position.rows, 0));
  }

  // Serialized rows of a system table, filtered here once.
  std::vector<stored_row> system_rows;
  std::unique_ptr<row_cursor> rows;
  if (t.system) {
    for (const auto& values : t.system->rows) {
      stored_row row;
      for (std::size_t i = 0; i < values.size(); ++i) {
        if (values[i].is_null()) {
          row.emplace_back();
        } else {
          row.emplace_back(serialize_value(t.columns[i].type.type, values[i]));
        }
      }
      system_rows.push_back(std::move(row));
    }
    rows = std::make_unique<system_cursor>(system_rows,
                                           static_cast<std::size_t>(next_id(position.after)));
  } else if (t.stored->synthetic_rows) {
    const std::int64_t n = *t.stored->synthetic_rows;
    std::int64_t begin = next_id(position.after);
    std::int64_t end = n;
    if (key) {
      const std::int64_t id = key->size() == 8 ? bigint_of(*key) : -1;
      begin = std::max(begin, id);
      end = id >= 0 && id < n ? id + 1 : 0;
    }
    rows = std::make_unique<synthetic_cursor>(begin, end);
  } else {
    rows = std::make_unique<stored_cursor>(*t.stored, position.after, key);
  }

  result_metadata metadata;
  metadata.column_count = static_cast<std::int32_t>(selected.size());
  if (parameters.skip_metadata) {
    metadata.no_metadata = true;
  } else {
    metadata.global_table = table_spec{t.keyspace, t.name};
    for (const std::size_t i : selected) {
      metadata.columns.push_back(
          column_spec{*metadata.global_table, t.columns[i].name, t.columns[i].type.type});
    }
  }

  if (paged && position.empties < std::min(empty_pages, max_empty_pages)) {
    // fault::action::empty_pages: an empty page that still says there is more.
    paging_position next = position;
    next.page += 1;
    next.empties += 1;
    metadata.paging_state = encode_position(next);
    const std::size_t start = begin_frame(out, response_version, 0, stream, opcode::result);
    write_rows_prefix(out, metadata);
    end_frame(out, start);
    return;
  }
  write_rows_page(out, stream, *rows, selected, conditions, metadata, position, room, limit,
                  paged, state.context->max_frame_body);
}

// ---- Writes and schema changes ------------------------------------------------------------

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
    const bool seen = std::any_of(values.begin(), values.end(),
                                  [&](const auto& v) { return v.first == column; });
    if (seen) {
      throw invalid("Multiple definitions found for column " + s.columns[i]);
    }
    bound_value v = bind_term(s.values[i], t.columns[column].type.type, parameters.values,
                              s.columns[i]);
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
    throw invalid("Some partition key parts are missing: " +
                  t.columns[*t.partition_key].name);
  }
  auto [row, inserted] = t.stored->rows.try_emplace(std::move(*key));
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

void refuse_system(const std::string& keyspace) {
  if (is_system_keyspace(keyspace)) {
    throw statement_error(error_code::unauthorized,
                          keyspace + " keyspace is not user-modifiable.");
  }
}

void run_create_keyspace(byte_writer& out, std::int16_t stream,
                         const create_keyspace_statement& s, connection_state& state) {
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
    r.message = error_response{
        error_code::already_exists,
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

// ---- PREPARE ----------------------------------------------------------------------------------

std::vector<std::byte> statement_id(std::string_view keyspace, std::string_view text) {
  const uuid id = table_id(keyspace, text);
  return {id.bytes.begin(), id.bytes.end()};
}

bool has_marker(const term& t) {
  return t.type == term::kind::marker ||
         std::any_of(t.items.begin(), t.items.end(), [](const term& i) { return has_marker(i); });
}

// The bind markers' specs and partition key indexes, and the result's columns.
prepared_result describe(const parsed_statement& parsed, const std::string& current_keyspace,
                         const connection_state& state) {
  prepared_result out;
  out.result.no_metadata = true;  // for statements that return no rows
  std::vector<std::optional<column_spec>> markers(parsed.markers);
  std::vector<std::uint16_t> key_markers;
  auto note = [&](const term& t, const resolved_table& table, std::size_t column,
                  std::string_view name_override) {
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
      markers[t.marker] = column_spec{spec, table.columns[column].name,
                                      table.columns[column].type.type};
      if (table.partition_key && column == *table.partition_key) {
        key_markers.push_back(static_cast<std::uint16_t>(t.marker));
      }
    } else {
      markers[t.marker] = column_spec{spec, std::string(name_override), type_id::int_};
    }
  };

  const std::shared_lock lock{state.shared->db.mutex};
  std::optional<resolved_table> table;
  if (const auto* insert = std::get_if<insert_statement>(&parsed.body)) {
    table = resolve(insert->table, current_keyspace, state);
    for (std::size_t i = 0; i < insert->columns.size(); ++i) {
      note(insert->values[i], *table, table->column(insert->columns[i]), {});
    }
  } else if (const auto* select = std::get_if<select_statement>(&parsed.body)) {
    table = resolve(select->table, current_keyspace, state);
    for (const relation& r : select->where) {
      note(r.value, *table, table->column(r.column), {});
    }
    if (select->limit) {
      note(*select->limit, *table, 0, "[limit]");
    }
    out.result.no_metadata = false;
    out.result.global_table = table_spec{table->keyspace, table->name};
    if (select->columns) {
      for (const std::string& name : *select->columns) {
        const std::size_t i = table->column(name);
        out.result.columns.push_back(
            column_spec{*out.result.global_table, name, table->columns[i].type.type});
      }
    } else {
      for (const auto& c : table->columns) {
        out.result.columns.push_back(column_spec{*out.result.global_table, c.name, c.type.type});
      }
    }
    out.result.column_count = static_cast<std::int32_t>(out.result.columns.size());
  }
  if (table && parsed.markers != 0) {
    out.variables.global_table = table_spec{table->keyspace, table->name};
  }
  for (auto& m : markers) {
    if (!m) {
      throw invalid("a bind marker in an unsupported position");
    }
    out.variables.columns.push_back(std::move(*m));
  }
  std::sort(key_markers.begin(), key_markers.end());
  if (!key_markers.empty()) {
    out.variables.partition_key_indexes = {key_markers.front()};
  }
  return out;
}

void answer_error(byte_writer& out, std::size_t mark, std::int16_t stream,
                  const statement_error& e) {
  out.buffer().resize(mark);
  write_error(out, stream, e.code(), e.what());
}

}  // namespace

std::int32_t requested_page(const query_parameters& parameters) noexcept {
  if (!parameters.paging_state || parameters.paging_state->empty()) {
    return 0;
  }
  try {
    const auto p = decode_position(*parameters.paging_state);
    return p ? p->page : 0;
  } catch (...) {
    return 0;
  }
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
