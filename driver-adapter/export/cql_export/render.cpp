// CQL values as CSV fields and JSON values; see render.hpp for the table of renderings.
#include "cql_export/render.hpp"

#include "cql_export/concat.hpp"

#include "scopekit/cql/protocol/error.hpp"
#include "scopekit/cql/protocol/typed_values.hpp"
#include "scopekit/cql/protocol/value.hpp"

#include <array>
#include <charconv>
#include <cmath>
#include <cstdint>
#include <stdexcept>
#include <string>
#include <utility>

namespace scopekit::cql_export {

namespace {

using cql::type_id;

/// How a value is spelled: as a JSON value, as a CQL literal (inside a collection, tuple or
/// UDT in CSV), or as plain text (a scalar CSV field before quoting, a JSON map key).
enum class style : std::uint8_t { json, cql_literal, text };

constexpr std::string_view hex_digits = "0123456789abcdef";

/// Types whose values may have zero bytes as an ordinary value (an empty string or blob).
bool is_string_like(type_id id) noexcept {
  return id == type_id::ascii || id == type_id::varchar || id == type_id::blob ||
         id == type_id::custom;
}

[[noreturn]] void bad_value(const cql::field_path& field, const cql::value_view& v,
                            const std::string& problem) {
  throw cql::protocol_error(field.str(), v.offset(),
                            concat(problem, " at offset ", std::to_string(v.offset())));
}

template <class T>
void append_integer(std::string& out, T x) {
  std::array<char, 24> buffer{};
  const auto result = std::to_chars(buffer.data(), buffer.data() + buffer.size(), x);
  out.append(buffer.data(), result.ptr);
}

/// `n` in decimal, with leading zeros up to `width` digits.
void append_padded(std::string& out, std::uint64_t n, std::size_t width) {
  std::array<char, 24> buffer{};
  const auto result = std::to_chars(buffer.data(), buffer.data() + buffer.size(), n);
  const auto digits = static_cast<std::size_t>(result.ptr - buffer.data());
  if (digits < width) {
    out.append(width - digits, '0');
  }
  out.append(buffer.data(), result.ptr);
}

template <class T>
void append_floating(std::string& out, T x, style s) {
  if (std::isnan(x) || std::isinf(x)) {
    // JSON has no spelling for these: they become strings. CQL spells them as here.
    const std::string_view name = std::isnan(x) ? "NaN" : (x < 0 ? "-Infinity" : "Infinity");
    if (s == style::json) {
      out += '"';
      out += name;
      out += '"';
    } else {
      out += name;
    }
    return;
  }
  std::array<char, 64> buffer{};
  const auto result = std::to_chars(buffer.data(), buffer.data() + buffer.size(), x);
  out.append(buffer.data(), result.ptr);
}

void append_hex(std::string& out, std::span<const std::byte> bytes) {
  std::size_t at = out.size();
  out.resize(at + 2 + 2 * bytes.size());
  out[at++] = '0';
  out[at++] = 'x';
  for (const std::byte b : bytes) {
    const auto v = std::to_integer<unsigned>(b);
    out[at++] = hex_digits[v >> 4U];
    out[at++] = hex_digits[v & 0xFU];
  }
}

/// floor(a / b) for b > 0, without overflow.
std::int64_t floor_div(std::int64_t a, std::int64_t b) noexcept {
  std::int64_t q = a / b;
  if (a % b < 0) {
    --q;
  }
  return q;
}

/// Days since 1970-01-01 to year, month, day of the proleptic Gregorian calendar
/// (H. Hinnant's civil_from_days, in 64 bits so that every CQL date and timestamp fits).
void append_civil_date(std::string& out, std::int64_t days) {
  const std::int64_t z = days + 719'468;
  const std::int64_t era = floor_div(z, 146'097);
  const auto doe = static_cast<std::uint64_t>(z - era * 146'097);  // [0, 146096]
  const std::uint64_t yoe = (doe - doe / 1460 + doe / 36'524 - doe / 146'096) / 365;
  const std::uint64_t doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
  const std::uint64_t mp = (5 * doy + 2) / 153;
  const std::uint64_t day = doy - (153 * mp + 2) / 5 + 1;
  const std::uint64_t month = mp < 10 ? mp + 3 : mp - 9;
  std::int64_t year = static_cast<std::int64_t>(yoe) + era * 400 + (month <= 2 ? 1 : 0);
  if (year < 0) {
    out += '-';
    year = -year;
  }
  append_padded(out, static_cast<std::uint64_t>(year), 4);
  out += '-';
  append_padded(out, month, 2);
  out += '-';
  append_padded(out, day, 2);
}

/// HH:MM:SS and, if `fraction_digits` > 0, a fraction of a second of that many digits;
/// `fraction` is in units of 10^-fraction_digits s.
void append_clock(std::string& out, std::uint64_t seconds_of_day, std::uint64_t fraction,
                  std::size_t fraction_digits) {
  append_padded(out, seconds_of_day / 3600, 2);
  out += ':';
  append_padded(out, seconds_of_day / 60 % 60, 2);
  out += ':';
  append_padded(out, seconds_of_day % 60, 2);
  out += '.';
  append_padded(out, fraction, fraction_digits);
}

/// A timestamp (ms since the epoch) as ISO 8601 UTC with milliseconds.
void append_timestamp(std::string& out, std::int64_t ms) {
  constexpr std::int64_t ms_per_day = 86'400'000;
  const std::int64_t days = floor_div(ms, ms_per_day);
  std::int64_t remainder = ms % ms_per_day;  // not ms - days * ms_per_day: that overflows
  if (remainder < 0) {
    remainder += ms_per_day;
  }
  const auto of_day = static_cast<std::uint64_t>(remainder);
  append_civil_date(out, days);
  out += 'T';
  append_clock(out, of_day / 1000, of_day % 1000, 3);
  out += 'Z';
}

/// A CQL time: nanoseconds since midnight. A value outside the day is printed as its number.
void append_time(std::string& out, std::int64_t ns) {
  if (ns < 0 || ns >= cql::nanoseconds_per_day) {
    append_integer(out, ns);
    return;
  }
  const auto n = static_cast<std::uint64_t>(ns);
  append_clock(out, n / 1'000'000'000, n % 1'000'000'000, 9);
}

/// The quote that surrounds a value that is a string in JSON and, if `quoted_in_cql`, in CQL.
char quote_for(style s, bool quoted_in_cql) noexcept {
  if (s == style::json) {
    return '"';
  }
  return s == style::cql_literal && quoted_in_cql ? '\'' : '\0';
}

/// Appends the quote `q`, if there is one.
void put_quote(std::string& out, char q) {
  if (q != '\0') {
    out += q;
  }
}

/// A CQL string literal: single quotes, each inner quote doubled.
void append_cql_string(std::string& out, std::string_view text) {
  out += '\'';
  for (std::size_t start = 0;;) {
    const std::size_t quote = text.find('\'', start);
    if (quote == std::string_view::npos) {
      out.append(text.substr(start));
      break;
    }
    out.append(text.substr(start, quote - start + 1));
    out += '\'';
    start = quote + 1;
  }
  out += '\'';
}

/// A UDT field name as CQL writes it: bare if it is a lower-case identifier, else quoted.
void append_cql_identifier(std::string& out, std::string_view name) {
  bool bare = !name.empty() && name.front() >= 'a' && name.front() <= 'z';
  for (const char c : name) {
    bare = bare && ((c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '_');
  }
  if (bare) {
    out += name;
    return;
  }
  out += '"';
  for (const char c : name) {
    out += c;
    if (c == '"') {
      out += '"';
    }
  }
  out += '"';
}

void append_value(std::string& out, style s, const cql::data_type& type, const cql::value_view& v,
                  const cql::field_path& field);

/// The elements of a list or set: [a, b] or {a, b} in CQL, [a,b] in JSON.
void append_list(std::string& out, style s, const cql::data_type& type, const cql::value_view& v,
                 const cql::field_path& field) {
  cql::byte_reader in(v.bytes(), v.offset());
  const std::size_t count = in.read_int_count(field, 4);
  const bool json = s == style::json;
  out += json || type.id() == type_id::list ? '[' : '{';
  const style inner = json ? style::json : style::cql_literal;
  for (std::size_t i = 0; i < count; ++i) {
    if (i != 0) {
      out += json ? "," : ", ";
    }
    const cql::field_path item(field, i);
    append_value(out, inner, type.element(), in.read_bytes(item), item);
  }
  in.expect_end(field);
  out += json || type.id() == type_id::list ? ']' : '}';
}

/// A map: {k: v, ...} in CQL; a JSON object whose keys are the keys' plain text.
void append_map(std::string& out, style s, const cql::data_type& type, const cql::value_view& v,
                const cql::field_path& field) {
  cql::byte_reader in(v.bytes(), v.offset());
  const std::size_t count = in.read_int_count(field, 8);
  const bool json = s == style::json;
  out += '{';
  std::string key;
  for (std::size_t i = 0; i < count; ++i) {
    if (i != 0) {
      out += json ? "," : ", ";
    }
    const cql::field_path entry(field, i);
    const cql::field_path key_field(entry, "key");
    const cql::field_path value_field(entry, "value");
    const cql::value_view k = in.read_bytes(key_field);
    if (json) {
      key.clear();
      append_value(key, style::text, type.element(), k, key_field);
      append_json_string(out, key);
      out += ':';
      append_value(out, style::json, type.mapped(), in.read_bytes(value_field), value_field);
    } else {
      append_value(out, style::cql_literal, type.element(), k, key_field);
      out += ": ";
      append_value(out, style::cql_literal, type.mapped(), in.read_bytes(value_field), value_field);
    }
  }
  in.expect_end(field);
  out += '}';
}

/// A tuple or UDT: its fields as [bytes], in order; missing trailing fields are null.
void append_fields(std::string& out, style s, const cql::data_type& type, const cql::value_view& v,
                   const cql::field_path& field) {
  const std::vector<cql::value_view> elements = cql::decode_fields(type, v, field);
  const bool json = s == style::json;
  const bool udt = type.id() == type_id::udt;
  const std::vector<cql::data_type>& types = type.parameters();
  const std::vector<std::string>& names = type.field_names();
  out += udt ? '{' : (json ? '[' : '(');
  for (std::size_t i = 0; i < types.size(); ++i) {
    if (i != 0) {
      out += json ? "," : ", ";
    }
    if (udt) {
      const std::string_view name = i < names.size() ? std::string_view(names[i]) : "";
      if (json) {
        append_json_string(out, name);
        out += ':';
      } else {
        append_cql_identifier(out, name);
        out += ": ";
      }
    }
    append_value(out, json ? style::json : style::cql_literal, types[i], elements[i],
                 cql::field_path(field, i));
  }
  out += udt ? '}' : (json ? ']' : ')');
}

void append_value(std::string& out, style s, const cql::data_type& type, const cql::value_view& v,
                  const cql::field_path& field) {
  if (v.is_null()) {
    out += "null";
    return;
  }
  if (v.is_not_set()) {
    bad_value(field, v, "a value that is not set");
  }
  if (v.is_empty() && !is_string_like(type.id())) {
    if (s != style::text) {
      out.append(2, s == style::json ? '"' : '\'');
    }
    return;
  }
  switch (type.id()) {
    case type_id::ascii:
    case type_id::varchar: {
      const std::string_view text =
          type.id() == type_id::ascii ? cql::decode_ascii(v, field) : cql::decode_text(v, field);
      if (s == style::json) {
        append_json_string(out, text);
      } else if (s == style::cql_literal) {
        append_cql_string(out, text);
      } else {
        out += text;
      }
      return;
    }
    case type_id::boolean:
      out += cql::decode_boolean(v, field) ? "true" : "false";
      return;
    case type_id::int_:
      append_integer(out, cql::decode_int(v, field));
      return;
    case type_id::bigint:
    case type_id::counter:
      append_integer(out, cql::decode_bigint(v, field));
      return;
    case type_id::smallint:
      append_integer(out, cql::decode_smallint(v, field));
      return;
    case type_id::tinyint:
      append_integer(out, cql::decode_tinyint(v, field));
      return;
    case type_id::varint:
      out += cql::to_string(cql::decode_varint(v, field));
      return;
    case type_id::decimal:
      out += cql::to_string(cql::decode_decimal(v, field));
      return;
    case type_id::float_:
      append_floating(out, cql::decode_float(v, field), s);
      return;
    case type_id::double_:
      append_floating(out, cql::decode_double(v, field), s);
      return;
    case type_id::timestamp: {
      const char q = quote_for(s, true);
      put_quote(out, q);
      append_timestamp(out, cql::decode_timestamp(v, field).time_since_epoch().count());
      put_quote(out, q);
      return;
    }
    case type_id::date: {
      const char q = quote_for(s, true);
      put_quote(out, q);
      append_civil_date(out, cql::decode_date(v, field).time_since_epoch().count());
      put_quote(out, q);
      return;
    }
    case type_id::time: {
      const char q = quote_for(s, true);
      put_quote(out, q);
      append_time(out, cql::decode_time_unchecked(v, field));
      put_quote(out, q);
      return;
    }
    case type_id::uuid:
    case type_id::timeuuid: {
      const char q = quote_for(s, false);
      put_quote(out, q);
      out += cql::to_string(cql::decode_uuid(v, field));
      put_quote(out, q);
      return;
    }
    case type_id::inet: {
      const char q = quote_for(s, true);
      put_quote(out, q);
      out += cql::to_string(cql::decode_inet(v, field));
      put_quote(out, q);
      return;
    }
    case type_id::list:
    case type_id::set:
      append_list(out, s, type, v, field);
      return;
    case type_id::map:
      append_map(out, s, type, v, field);
      return;
    case type_id::tuple:
    case type_id::udt:
      append_fields(out, s, type, v, field);
      return;
    case type_id::blob:
    case type_id::custom:
      break;
  }
  const char q = quote_for(s, false);
  put_quote(out, q);
  append_hex(out, v.bytes());
  put_quote(out, q);
}

bool needs_csv_quotes(std::string_view text) noexcept {
  return text.empty() || text.find_first_of(",\"\r\n") != std::string_view::npos;
}

}  // namespace

void append_csv_text(std::string& out, std::string_view text) {
  if (!needs_csv_quotes(text)) {
    out += text;
    return;
  }
  out += '"';
  for (std::size_t start = 0;;) {
    const std::size_t quote = text.find('"', start);
    if (quote == std::string_view::npos) {
      out.append(text.substr(start));
      break;
    }
    out.append(text.substr(start, quote - start + 1));
    out += '"';
    start = quote + 1;
  }
  out += '"';
}

void append_json_string(std::string& out, std::string_view text) {
  out += '"';
  std::size_t run = 0;  // the start of the characters not yet appended
  for (std::size_t i = 0; i < text.size(); ++i) {
    const auto c = static_cast<unsigned char>(text[i]);
    if (c >= 0x20 && c != '"' && c != '\\') {
      continue;
    }
    out.append(text.substr(run, i - run));
    run = i + 1;
    switch (c) {
      case '"':
        out += "\\\"";
        break;
      case '\\':
        out += "\\\\";
        break;
      case '\b':
        out += "\\b";
        break;
      case '\f':
        out += "\\f";
        break;
      case '\n':
        out += "\\n";
        break;
      case '\r':
        out += "\\r";
        break;
      case '\t':
        out += "\\t";
        break;
      default:
        out += "\\u00";
        out += hex_digits[c >> 4U];
        out += hex_digits[c & 0xFU];
    }
  }
  out.append(text.substr(run));
  out += '"';
}

void append_csv_value(std::string& out, const cql::data_type& type, const cql::value_view& v,
                      std::string_view column) {
  const cql::field_path field{column};
  if (v.is_null()) {
    return;  // an empty, unquoted field
  }
  switch (type.id()) {
    case type_id::ascii:
      append_csv_text(out, cql::decode_ascii(v, field));
      return;
    case type_id::varchar:
      append_csv_text(out, cql::decode_text(v, field));
      return;
    case type_id::list:
    case type_id::set:
    case type_id::map:
    case type_id::tuple:
    case type_id::udt: {
      if (v.is_empty()) {
        out += "\"\"";
        return;
      }
      std::string literal;
      append_value(literal, style::text, type, v, field);
      append_csv_text(out, literal);
      return;
    }
    default:
      if (v.is_empty() && !is_string_like(type.id())) {
        out += "\"\"";
        return;
      }
      // The plain text of the other types holds no comma, quote, CR or LF.
      append_value(out, style::text, type, v, field);
  }
}

void append_json_value(std::string& out, const cql::data_type& type, const cql::value_view& v,
                       std::string_view column) {
  const cql::field_path field{column};
  append_value(out, style::json, type, v, field);
}

row_renderer::row_renderer(cql_export::format f, std::vector<cql::column_spec> columns)
    : format_(f), columns_(std::move(columns)) {
  if (format_ == format::jsonl) {
    json_keys_.reserve(columns_.size());
    for (std::size_t i = 0; i < columns_.size(); ++i) {
      std::string key(1, i == 0 ? '{' : ',');
      append_json_string(key, columns_[i].name);
      key += ':';
      json_keys_.push_back(std::move(key));
    }
  }
}

void row_renderer::append_header(std::string& out) const {
  if (format_ != format::csv) {
    return;
  }
  for (std::size_t i = 0; i < columns_.size(); ++i) {
    if (i != 0) {
      out += ',';
    }
    append_csv_text(out, columns_[i].name);
  }
  out += "\r\n";
}

void row_renderer::check_page(const cql::rows_result& page) const {
  if (page.column_count() != columns_.size()) {
    throw cql::protocol_error(
        "rows", 0,
        concat("a page of ", std::to_string(page.column_count()),
               " columns, where the prepared statement has ", std::to_string(columns_.size())));
  }
  const std::vector<cql::column_spec>& specs = page.metadata().columns;
  for (std::size_t i = 0; i < specs.size() && i < columns_.size(); ++i) {
    if (specs[i].type != columns_[i].type) {
      throw cql::protocol_error(
          "rows.columns", 0,
          concat("column '", columns_[i].name, "' is ", specs[i].type.to_string(), " in a page, ",
                 columns_[i].type.to_string(), " in the prepared statement"));
    }
  }
}

template <class CellAt>
void row_renderer::append(std::string& out, const CellAt& cell_at) const {
  if (format_ == format::csv) {
    for (std::size_t c = 0; c < columns_.size(); ++c) {
      if (c != 0) {
        out += ',';
      }
      append_csv_value(out, columns_[c].type, cell_at(c), columns_[c].name);
    }
    out += "\r\n";
    return;
  }
  if (columns_.empty()) {
    out += '{';
  }
  for (std::size_t c = 0; c < columns_.size(); ++c) {
    out += json_keys_[c];
    append_json_value(out, columns_[c].type, cell_at(c), columns_[c].name);
  }
  out += "}\n";
}

void row_renderer::append_row(std::string& out, const cql::rows_result& page,
                              std::size_t index) const {
  append(out, [&](std::size_t c) { return page.cell(index, c); });
}

void row_renderer::append_row(std::string& out, std::span<const cql::value_view> cells) const {
  if (cells.size() != columns_.size()) {
    throw std::invalid_argument(concat("row_renderer: ", std::to_string(cells.size()),
                                       " cells for ", std::to_string(columns_.size()), " columns"));
  }
  append(out, [&](std::size_t c) { return cells[c]; });
}

}  // namespace scopekit::cql_export
