// libFuzzer target: one RESULT body of kind Rows from an untrusted server. What decodes must
// re-encode and decode to the same page; every cell is decoded with its column's type (and with
// every scalar decoder), and a decoded value must serialize stably. Anything but a
// protocol_error is a bug.
//
// Build and run: tests/fuzz/run_fuzzers.sh (preset `fuzz`, clang++-14).
#include "scopekit/cql/protocol/rows.hpp"
#include "scopekit/cql/protocol/value.hpp"

#include <algorithm>
#include <cstddef>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <vector>

namespace {

namespace cql = scopekit::cql;

[[noreturn]] void fail(const char* what) {
  std::fprintf(stderr, "rows_fuzzer: %s\n", what);
  std::abort();
}

template <class F>
void tolerate_protocol_error(F&& f) {
  try {
    f();
  } catch (const cql::protocol_error&) {
  }
}

void check_typed(const cql::data_type& type, const cql::value_view& cell) {
  tolerate_protocol_error([&] {
    const cql::value v = cql::decode_value(type, cell, "cell");
    if (v.is_null()) {
      return;
    }
    const std::vector<std::byte> once = cql::serialize_value(type, v);
    const cql::value again = cql::decode_value(type, cql::value_view{once}, "again");
    if (cql::serialize_value(type, again) != once) {
      fail("a value does not serialize stably");
    }
  });
}

void check_scalars(const cql::value_view& cell) {
  tolerate_protocol_error([&] { (void)cql::decode_int(cell); });
  tolerate_protocol_error([&] { (void)cql::decode_bigint(cell); });
  tolerate_protocol_error([&] { (void)cql::decode_boolean(cell); });
  tolerate_protocol_error([&] { (void)cql::decode_double(cell); });
  tolerate_protocol_error([&] { (void)cql::decode_float(cell); });
  tolerate_protocol_error([&] { (void)cql::decode_timestamp(cell); });
  tolerate_protocol_error([&] { (void)cql::to_string(cql::decode_uuid(cell)); });
  tolerate_protocol_error([&] { (void)cql::decode_timeuuid(cell); });
  tolerate_protocol_error([&] { (void)cql::to_string(cql::decode_inet(cell)); });
  tolerate_protocol_error([&] { (void)cql::decode_ascii(cell); });
  tolerate_protocol_error([&] { (void)cql::decode_text(cell); });
  tolerate_protocol_error([&] { (void)cql::decode_blob(cell); });
}

}  // namespace

// NOLINTNEXTLINE(readability-identifier-naming): the entry point libFuzzer calls
extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  std::vector<std::byte> body(size);
  std::transform(data, data + size, body.begin(), [](std::uint8_t b) { return std::byte{b}; });
  cql::rows_result rows;
  try {
    rows = cql::decode_rows(std::move(body));
  } catch (const cql::protocol_error&) {
    return 0;
  }

  std::vector<std::byte> wire;
  cql::byte_writer out(wire);
  cql::write_rows(out, rows);
  if (cql::decode_rows(wire) != rows) {
    fail("a page changed through encode + decode");
  }

  const cql::result_metadata& md = rows.metadata();
  const std::size_t cells = std::min<std::size_t>(rows.row_count() * rows.column_count(), 4096);
  for (std::size_t i = 0; i < cells; ++i) {
    const std::size_t column = i % rows.column_count();
    const cql::value_view cell = rows.cell(i / rows.column_count(), column);
    if (!md.no_metadata) {
      check_typed(md.columns[column].type, cell);
    }
    check_scalars(cell);
  }
  return 0;
}
