// cql_export/render.hpp - CQL values as CSV fields (RFC 4180) and JSON values, rows as CSV
// lines and JSON Lines objects.
//
// Every type of CQL v4 is rendered from the cell's bytes (a value_view), without building a
// cql::value, through the codec's typed decoders (value.hpp, typed_values.hpp), which validate
// UTF-8, sizes and uuid versions and throw cql::protocol_error. The renderings, also listed by
// --help and docs/reference/cql_export.md:
//
//   CQL                      CSV field                      JSON value
//   null                     (nothing)                      null
//   text, ascii              the text, quoted if needed     "escaped text"
//   empty text               ""                             ""
//   integers, varint         -42                            -42
//   decimal                  123.45  1E-8  1.5E+4           the same
//   float, double            1.5  1e+300                    the same
//     NaN, +-Infinity        NaN  Infinity  -Infinity       "NaN"  "Infinity"  "-Infinity"
//   boolean                  true                           true
//   blob, custom             0xcafe (0x when empty)         "0xcafe"
//   timestamp                2020-01-02T03:04:05.123Z       "2020-01-02T03:04:05.123Z"
//   date, time               2024-01-01  03:04:05.000000006 "2024-01-01"  "03:04:05.000000006"
//   uuid, timeuuid, inet     as CQL prints them             "..."
//   list, set                "[1, 2]"  "{'a', 'b'}"         [1,2]  ["a","b"]
//   map                      "{'k': 1, 'j': 2}"             {"k":1,"j":2}
//   tuple, UDT               "(1, 'x')"  "{f: 1, g: 2}"     [1,"x"]  {"f":1,"g":2}
//   zero bytes of a non-string type (CQL's "empty", not null): "" in both formats.
// Collections, tuples and UDTs are CQL literals in CSV, then one field quoted by the CSV rule
// (a literal of one element, such as [1], needs no quotes); JSON map keys are the keys' plain
// text.
//
//   scopekit::cql_export::row_renderer csv{format::csv, prepared.result_columns().columns};
//   std::string out;
//   csv.append_header(out);
//   csv.append_row(out, page, 0);
#pragma once

#include "cql_export/options.hpp"

#include "scopekit/cql/protocol/buffer.hpp"
#include "scopekit/cql/protocol/data_type.hpp"
#include "scopekit/cql/protocol/rows.hpp"

#include <cstddef>
#include <span>
#include <string>
#include <string_view>
#include <vector>

namespace scopekit::cql_export {

/// Appends `text` as one CSV field (RFC 4180): as is, or between double quotes with each
/// quote doubled if it contains a comma, a quote, CR or LF, or is empty ("" keeps an empty
/// string apart from null, which is a field with nothing in it).
void append_csv_text(std::string& out, std::string_view text);

/// Appends `text` as a JSON string: quote, backslash and the control characters escaped
/// (\b \f \n \r \t, others as \u00XX), everything else (UTF-8 included) as is.
void append_json_string(std::string& out, std::string_view text);

/// Appends the value `v` of `type` as a CSV field. cql::protocol_error (naming `column`) for
/// bytes that are not a valid value of the type.
void append_csv_value(std::string& out, const cql::data_type& type, const cql::value_view& v,
                      std::string_view column = "value");

/// Appends the value `v` of `type` as a JSON value. Throws as append_csv_value.
void append_json_value(std::string& out, const cql::data_type& type, const cql::value_view& v,
                       std::string_view column = "value");

/// Renders whole rows of a result with fixed columns.
class row_renderer {
public:
  /// Columns as PREPARE described them (names for the header and the JSON keys, types).
  row_renderer(cql_export::format f, std::vector<cql::column_spec> columns);

  /// CSV: the header line (the column names, CRLF). JSON Lines: nothing.
  void append_header(std::string& out) const;

  /// cql::protocol_error unless `page` has the renderer's columns (count and types).
  void check_page(const cql::rows_result& page) const;

  /// Appends row `index` of `page` (checked by check_page()): one CSV line ending in CRLF,
  /// or one JSON object, keys in column order, ending in LF.
  void append_row(std::string& out, const cql::rows_result& page, std::size_t index) const;

  /// The same for cells given one per column. std::invalid_argument for a wrong count.
  void append_row(std::string& out, std::span<const cql::value_view> cells) const;

  const std::vector<cql::column_spec>& columns() const noexcept { return columns_; }

private:
  template <class CellAt>
  void append(std::string& out, const CellAt& cell_at) const;

  cql_export::format format_;
  std::vector<cql::column_spec> columns_;
  /// JSON Lines: `{"name":` for the first column, `,"name":` for the others.
  std::vector<std::string> json_keys_;
};

}  // namespace scopekit::cql_export
