// tests/support/cql/vectors.hpp - CQL v4 byte vectors written by hand from the spec
// (doc/native_protocol_v4.spec in the Cassandra source), one comment per field.
//
// They are the codec tests' ground truth: the decoders must read them and the encoders must
// reproduce them byte for byte. tests/cql/protocol/corpus_test.cpp also checks that the fuzzers'
// seed corpora (tests/fuzz/corpus/) hold exactly these vectors.
#pragma once

#include <cstddef>
#include <cstdint>
#include <initializer_list>
#include <string_view>
#include <vector>

namespace scopekit::cql::test {

using bytes = std::vector<std::byte>;

/// Bytes from integers 0-255 (and character literals), in order.
inline bytes b(std::initializer_list<int> values) {
  bytes out;
  out.reserve(values.size());
  for (const int v : values) {
    out.push_back(static_cast<std::byte>(v));
  }
  return out;
}

/// The bytes of a string, without any length prefix.
inline bytes str(std::string_view text) {
  bytes out;
  out.reserve(text.size());
  for (const char c : text) {
    out.push_back(static_cast<std::byte>(c));
  }
  return out;
}

/// The parts, concatenated.
inline bytes cat(std::initializer_list<bytes> parts) {
  bytes out;
  for (const bytes& p : parts) {
    out.insert(out.end(), p.begin(), p.end());
  }
  return out;
}

/// A whole frame: the 9 header bytes (version, flags, stream, opcode, body length) + body.
inline bytes frame_bytes(int version, int flags, int stream, int opcode, const bytes& body) {
  const auto n = static_cast<std::uint32_t>(body.size());
  const auto s = static_cast<std::uint16_t>(stream);
  return cat({b({version, flags, s >> 8, s & 0xFF, opcode, static_cast<int>(n >> 24U),
                 static_cast<int>((n >> 16U) & 0xFFU), static_cast<int>((n >> 8U) & 0xFFU),
                 static_cast<int>(n & 0xFFU)}),
              body});
}

// ---- Frame headers (§2) ---------------------------------------------------------------------

// An OPTIONS request on stream 1 with an empty body.
inline const bytes options_header = b({
    0x04,                    // version: v4 request
    0x00,                    // flags: none
    0x00, 0x01,              // stream: 1
    0x05,                    // opcode: OPTIONS
    0x00, 0x00, 0x00, 0x00,  // length: 0
});

// An EVENT response (stream -1) with the warning flag and a 256-byte body.
inline const bytes event_header = b({
    0x84,                    // version: v4 response
    0x08,                    // flags: warning
    0xFF, 0xFF,              // stream: -1
    0x0C,                    // opcode: EVENT
    0x00, 0x00, 0x01, 0x00,  // length: 256
});

// ---- Values (§6): the content of one [bytes], without its length ------------------------------

inline const bytes smallint_minus_2 = b({0xFF, 0xFE});  // §6.14: 2-byte two's complement
inline const bytes tinyint_minus_128 = b({0x80});       // §6.19: 1 byte
// §6.23 varint: big-endian two's complement, shortest form.
inline const bytes varint_128 = b({0x00, 0x80});  // 128 needs a 0x00 sign byte
inline const bytes varint_minus_129 = b({0xFF, 0x7F});
// 2^96 + 1 = 79228162514264337593543950337 (beyond 64 bits).
inline const bytes varint_2_pow_96_plus_1 = b({0x01, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0x01});
// §6.6 decimal: [int] scale 2, unscaled varint 12345 (0x3039): 123.45.
inline const bytes decimal_123_45 = b({0x00, 0x00, 0x00, 0x02, 0x30, 0x39});
// §6.5 date: 2^31 + 19723 days (0x80004D0B): 2024-01-01.
inline const bytes date_2024_01_01 = b({0x80, 0x00, 0x4D, 0x0B});
// §6.16 time: 11045000000006 ns (0x00000A0B9D4D3206): 03:04:05.000000006.
inline const bytes time_03_04_05_000000006 = b({0x00, 0x00, 0x0A, 0x0B, 0x9D, 0x4D, 0x32, 0x06});
// duration (v5 §6): months 1 (zig-zag 2), days -1 would mix signs, so: 1 month, 2 days,
// 3000000000 ns (zig-zag 6000000000 = 0x165A0BC00, 33 bits: 5 bytes, first byte 0xF0 | 0x01).
inline const bytes duration_1mo_2d_3s = b({
    0x02,                          // months: zig-zag 2 -> 1
    0x04,                          // days: zig-zag 4 -> 2
    0xF1, 0x65, 0xA0, 0xBC, 0x00,  // nanoseconds: 4 more bytes, 0x165A0BC00 -> 3000000000
});
// A negative duration: -1 month (zig-zag 1), 0 days, -1 ns (zig-zag 1).
inline const bytes duration_minus_1mo_minus_1ns = b({0x01, 0x00, 0x01});
// §6.24 tuple<int, varchar, int>: 7, null, then no third element (a null too).
inline const bytes tuple_7_null = b({
    0x00, 0x00, 0x00, 0x04, 0x00, 0x00, 0x00, 0x07,  // [bytes] int 7
    0xFF, 0xFF, 0xFF, 0xFF,                          // [bytes] null
});

// ---- Requests (§4.1): bodies ----------------------------------------------------------------

inline const bytes startup_body = cat({
    b({0x00, 0x02}),                      // [string map]: 2 entries
    b({0x00, 0x0B}), str("CQL_VERSION"),  //   key
    b({0x00, 0x05}), str("3.0.0"),        //   value
    b({0x00, 0x0B}), str("DRIVER_NAME"),  //   key
    b({0x00, 0x08}), str("scopekit"),     //   value
});

inline const bytes options_body = {};  // OPTIONS: empty body

// QUERY with no flags.
inline const bytes query_simple_body = cat({
    b({0x00, 0x00, 0x00, 0x1C}), str("SELECT key FROM system.local"),  // [long string] 28
    b({0x00, 0x0A}),                                                   // consistency LOCAL_ONE
    b({0x00}),                                                         // flags: none
});

// QUERY with every flag but names: values, skip_metadata, page_size, paging_state,
// serial_consistency, default timestamp.
inline const bytes query_all_flags_body = cat({
    b({0x00, 0x00, 0x00, 0x1B}), str("SELECT * FROM t WHERE k = ?"),  // [long string] 27
    b({0x00, 0x04}),                                                  // consistency QUORUM
    b({0x3F}),                                    // flags 0x01|0x02|0x04|0x08|0x10|0x20
    b({0x00, 0x04}),                              // 4 values:
    b({0x00, 0x00, 0x00, 0x04, 0x00, 0x00, 0x00, 0x2A}),  //   int 42
    b({0x00, 0x00, 0x00, 0x00}),                  //   empty (length 0)
    b({0xFF, 0xFF, 0xFF, 0xFF}),                  //   null (length -1)
    b({0xFF, 0xFF, 0xFF, 0xFE}),                  //   not set (length -2)
    b({0x00, 0x00, 0x13, 0x88}),                  // page_size 5000
    b({0x00, 0x00, 0x00, 0x03, 0x01, 0x02, 0x03}),  // paging_state [bytes] 01 02 03
    b({0x00, 0x09}),                              // serial consistency LOCAL_SERIAL
    b({0x00, 0x06, 0x0A, 0x24, 0x18, 0x1E, 0x40, 0x00}),  // timestamp 1700000000000000 us
});

// QUERY with named values (flags 0x01|0x40).
inline const bytes query_named_values_body = cat({
    b({0x00, 0x00, 0x00, 0x24}), str("INSERT INTO t (k, v) VALUES (:k, :v)"),  // 36
    b({0x00, 0x01}),                                           // consistency ONE
    b({0x41}),                                                 // flags: values, names
    b({0x00, 0x02}),                                           // 2 values:
    b({0x00, 0x01}), str("k"),                                 //   name "k"
    b({0x00, 0x00, 0x00, 0x04, 0x00, 0x00, 0x00, 0x01}),       //   int 1
    b({0x00, 0x01}), str("v"),                                 //   name "v"
    b({0x00, 0x00, 0x00, 0x02}), str("hi"),                    //   varchar "hi"
});

inline const bytes prepare_body = cat({
    b({0x00, 0x00, 0x00, 0x1B}), str("SELECT * FROM t WHERE k = ?"),  // [long string] 27
});

inline const bytes execute_body = cat({
    b({0x00, 0x04, 0xDE, 0xAD, 0xBE, 0xEF}),  // [short bytes] id de ad be ef
    b({0x00, 0x01}),                          // consistency ONE
    b({0x07}),                                // flags: values, skip_metadata, page_size
    b({0x00, 0x01}),                          // 1 value:
    b({0x00, 0x00, 0x00, 0x08, 0, 0, 0, 0, 0, 0, 0, 0x07}),  //   bigint 7
    b({0x00, 0x00, 0x00, 0x64}),              // page_size 100
});

inline const bytes register_body = cat({
    b({0x00, 0x03}),                          // [string list]: 3 strings
    b({0x00, 0x0F}), str("TOPOLOGY_CHANGE"),  //
    b({0x00, 0x0D}), str("STATUS_CHANGE"),    //
    b({0x00, 0x0D}), str("SCHEMA_CHANGE"),    //
});

// ---- Responses (§4.2): bodies ---------------------------------------------------------------

inline const bytes ready_body = {};  // READY: empty body

inline const bytes supported_body = cat({
    b({0x00, 0x02}),                      // [string multimap]: 2 entries
    b({0x00, 0x0B}), str("CQL_VERSION"),  //   key
    b({0x00, 0x01}),                      //   [string list]: 1 string
    b({0x00, 0x05}), str("3.4.4"),        //
    b({0x00, 0x0B}), str("COMPRESSION"),  //   key
    b({0x00, 0x00}),                      //   [string list]: empty
});

inline const bytes result_void_body = b({0x00, 0x00, 0x00, 0x01});  // kind Void

inline const bytes result_set_keyspace_body = cat({
    b({0x00, 0x00, 0x00, 0x03}),   // kind Set_keyspace
    b({0x00, 0x04}), str("demo"),  // [string] keyspace
});

inline const bytes result_schema_change_table_body = cat({
    b({0x00, 0x00, 0x00, 0x05}),      // kind Schema_change
    b({0x00, 0x07}), str("CREATED"),  // change_type
    b({0x00, 0x05}), str("TABLE"),    // target
    b({0x00, 0x04}), str("demo"),     // keyspace
    b({0x00, 0x04}), str("rows"),     // table
});

inline const bytes result_schema_change_keyspace_body = cat({
    b({0x00, 0x00, 0x00, 0x05}),       // kind Schema_change
    b({0x00, 0x07}), str("DROPPED"),   // change_type
    b({0x00, 0x08}), str("KEYSPACE"),  // target
    b({0x00, 0x04}), str("demo"),      // keyspace
});

inline const bytes result_schema_change_function_body = cat({
    b({0x00, 0x00, 0x00, 0x05}),       // kind Schema_change
    b({0x00, 0x07}), str("UPDATED"),   // change_type
    b({0x00, 0x08}), str("FUNCTION"),  // target
    b({0x00, 0x04}), str("demo"),      // keyspace
    b({0x00, 0x01}), str("f"),         // function name
    b({0x00, 0x02}),                   // [string list] argument types: 2
    b({0x00, 0x03}), str("int"),       //
    b({0x00, 0x04}), str("text"),      //
});

// Prepared: SELECT * FROM demo.t WHERE k = ? (bind marker k int; result columns k, v).
inline const bytes result_prepared_body = cat({
    b({0x00, 0x00, 0x00, 0x04}),  // kind Prepared
    b({0x00, 0x02, 0xAB, 0xCD}),  // [short bytes] id ab cd
    // bind-marker metadata
    b({0x00, 0x00, 0x00, 0x01}),  // flags: global_tables_spec
    b({0x00, 0x00, 0x00, 0x01}),  // columns_count 1
    b({0x00, 0x00, 0x00, 0x01}),  // pk_count 1
    b({0x00, 0x00}),              // pk_index[0] = 0
    b({0x00, 0x04}), str("demo"), b({0x00, 0x01}), str("t"),  // global keyspace, table
    b({0x00, 0x01}), str("k"), b({0x00, 0x09}),               // "k" int
    // result metadata
    b({0x00, 0x00, 0x00, 0x01}),  // flags: global_tables_spec
    b({0x00, 0x00, 0x00, 0x02}),  // columns_count 2
    b({0x00, 0x04}), str("demo"), b({0x00, 0x01}), str("t"),  // global keyspace, table
    b({0x00, 0x01}), str("k"), b({0x00, 0x09}),               // "k" int
    b({0x00, 0x01}), str("v"), b({0x00, 0x0D}),               // "v" varchar
});

// Prepared: INSERT INTO demo.t (k, v) VALUES (?, ?), per-column table specs, no result rows.
inline const bytes result_prepared_insert_body = cat({
    b({0x00, 0x00, 0x00, 0x04}),  // kind Prepared
    b({0x00, 0x01, 0x07}),        // [short bytes] id 07
    // bind-marker metadata
    b({0x00, 0x00, 0x00, 0x00}),  // flags: none
    b({0x00, 0x00, 0x00, 0x02}),  // columns_count 2
    b({0x00, 0x00, 0x00, 0x01}),  // pk_count 1
    b({0x00, 0x00}),              // pk_index[0] = 0
    b({0x00, 0x04}), str("demo"), b({0x00, 0x01}), str("t"),  // column 0: keyspace, table
    b({0x00, 0x01}), str("k"), b({0x00, 0x09}),               //   "k" int
    b({0x00, 0x04}), str("demo"), b({0x00, 0x01}), str("t"),  // column 1: keyspace, table
    b({0x00, 0x01}), str("v"), b({0x00, 0x0D}),               //   "v" varchar
    // result metadata
    b({0x00, 0x00, 0x00, 0x04}),  // flags: no_metadata
    b({0x00, 0x00, 0x00, 0x00}),  // columns_count 0
});

// ---- RESULT Rows (§4.2.5.2) -----------------------------------------------------------------

// Global table spec, three columns (bigint, varchar, set<varchar>), two rows with a null and
// an empty value.
inline const bytes rows_global_body = cat({
    b({0x00, 0x00, 0x00, 0x02}),  // kind Rows
    b({0x00, 0x00, 0x00, 0x01}),  // flags: global_tables_spec
    b({0x00, 0x00, 0x00, 0x03}),  // columns_count 3
    b({0x00, 0x04}), str("demo"), b({0x00, 0x01}), str("t"),  // keyspace, table
    b({0x00, 0x02}), str("id"), b({0x00, 0x02}),              // "id" bigint
    b({0x00, 0x04}), str("name"), b({0x00, 0x0D}),            // "name" varchar
    b({0x00, 0x04}), str("tags"), b({0x00, 0x22, 0x00, 0x0D}),  // "tags" set<varchar>
    b({0x00, 0x00, 0x00, 0x02}),  // rows_count 2
    // row 0
    b({0x00, 0x00, 0x00, 0x08, 0, 0, 0, 0, 0, 0, 0, 0x01}),  // id 1
    b({0x00, 0x00, 0x00, 0x05}), str("row-1"),               // name "row-1"
    b({0x00, 0x00, 0x00, 0x0E}),                             // tags: 14 bytes
    b({0x00, 0x00, 0x00, 0x02}),                             //   2 elements
    b({0x00, 0x00, 0x00, 0x01}), str("a"),                   //   "a"
    b({0x00, 0x00, 0x00, 0x01}), str("b"),                   //   "b"
    // row 1
    b({0x00, 0x00, 0x00, 0x08, 0, 0, 0, 0, 0, 0, 0, 0x02}),  // id 2
    b({0xFF, 0xFF, 0xFF, 0xFF}),                             // name: null
    b({0x00, 0x00, 0x00, 0x00}),                             // tags: empty
});

// Per-column table specs (no global spec): system.local's key and rpc_address.
inline const bytes rows_per_column_body = cat({
    b({0x00, 0x00, 0x00, 0x02}),  // kind Rows
    b({0x00, 0x00, 0x00, 0x00}),  // flags: none
    b({0x00, 0x00, 0x00, 0x02}),  // columns_count 2
    b({0x00, 0x06}), str("system"), b({0x00, 0x05}), str("local"),  // column 0: ks, table
    b({0x00, 0x03}), str("key"), b({0x00, 0x0D}),                   //   "key" varchar
    b({0x00, 0x06}), str("system"), b({0x00, 0x05}), str("local"),  // column 1: ks, table
    b({0x00, 0x0B}), str("rpc_address"), b({0x00, 0x10}),           //   "rpc_address" inet
    b({0x00, 0x00, 0x00, 0x01}),                                    // rows_count 1
    b({0x00, 0x00, 0x00, 0x05}), str("local"),                      // "local"
    b({0x00, 0x00, 0x00, 0x04, 0x7F, 0x00, 0x00, 0x01}),            // 127.0.0.1
});

// no_metadata and has_more_pages: what an EXECUTE with skip_metadata gets back.
inline const bytes rows_no_metadata_body = cat({
    b({0x00, 0x00, 0x00, 0x02}),              // kind Rows
    b({0x00, 0x00, 0x00, 0x06}),              // flags: has_more_pages, no_metadata
    b({0x00, 0x00, 0x00, 0x01}),              // columns_count 1
    b({0x00, 0x00, 0x00, 0x02, 0xCA, 0xFE}),  // paging_state ca fe
    b({0x00, 0x00, 0x00, 0x01}),              // rows_count 1
    b({0x00, 0x00, 0x00, 0x04, 0x00, 0x00, 0x00, 0x07}),  // int 7
});

// An empty page that still has more pages (ScyllaDB sends these; §8 of the notes).
inline const bytes rows_empty_more_pages_body = cat({
    b({0x00, 0x00, 0x00, 0x02}),        // kind Rows
    b({0x00, 0x00, 0x00, 0x03}),        // flags: global_tables_spec, has_more_pages
    b({0x00, 0x00, 0x00, 0x01}),        // columns_count 1
    b({0x00, 0x00, 0x00, 0x01, 0x01}),  // paging_state 01
    b({0x00, 0x04}), str("demo"), b({0x00, 0x01}), str("t"),  // keyspace, table
    b({0x00, 0x02}), str("id"), b({0x00, 0x09}),              // "id" int
    b({0x00, 0x00, 0x00, 0x00}),                              // rows_count 0
});

// ---- ERROR (§9): one body per code ----------------------------------------------------------

inline const bytes error_server_body = cat({
    b({0x00, 0x00, 0x00, 0x00}),   // code 0x0000 Server error
    b({0x00, 0x04}), str("boom"),  // message
});

inline const bytes error_protocol_body = cat({
    b({0x00, 0x00, 0x00, 0x0A}),  // code 0x000A Protocol error
    b({0x00, 0x56}),              // message, 86 bytes
    str("Invalid or unsupported protocol version (5); supported versions are (3/v3, 4/v4, 5/v5)"),
});

inline const bytes error_authentication_body = cat({
    b({0x00, 0x00, 0x01, 0x00}),              // code 0x0100 Authentication error
    b({0x00, 0x0F}), str("bad credentials"),  // message
});

inline const bytes error_unavailable_body = cat({
    b({0x00, 0x00, 0x10, 0x00}),  // code 0x1000 Unavailable
    b({0x00, 0x27}), str("Cannot achieve consistency level QUORUM"),  // message
    b({0x00, 0x04}),              // cl QUORUM
    b({0x00, 0x00, 0x00, 0x02}),  // required 2
    b({0x00, 0x00, 0x00, 0x01}),  // alive 1
});

inline const bytes error_overloaded_body = cat({
    b({0x00, 0x00, 0x10, 0x01}),         // code 0x1001 Overloaded
    b({0x00, 0x04}), str("busy"),        // message
});

inline const bytes error_is_bootstrapping_body = cat({
    b({0x00, 0x00, 0x10, 0x02}),         // code 0x1002 Is_bootstrapping
    b({0x00, 0x07}), str("joining"),     // message
});

inline const bytes error_truncate_body = cat({
    b({0x00, 0x00, 0x10, 0x03}),         // code 0x1003 Truncate_error
    b({0x00, 0x08}), str("truncate"),    // message
});

inline const bytes error_write_timeout_body = cat({
    b({0x00, 0x00, 0x11, 0x00}),  // code 0x1100 Write_timeout
    b({0x00, 0x30}), str("Operation timed out - received only 0 responses."),  // message
    b({0x00, 0x01}),              // cl ONE
    b({0x00, 0x00, 0x00, 0x00}),  // received 0
    b({0x00, 0x00, 0x00, 0x01}),  // blockfor 1
    b({0x00, 0x06}), str("SIMPLE"),  // write_type
});

inline const bytes error_read_timeout_body = cat({
    b({0x00, 0x00, 0x12, 0x00}),  // code 0x1200 Read_timeout
    b({0x00, 0x07}), str("timeout"),  // message
    b({0x00, 0x04}),              // cl QUORUM
    b({0x00, 0x00, 0x00, 0x01}),  // received 1
    b({0x00, 0x00, 0x00, 0x02}),  // blockfor 2
    b({0x00}),                    // data_present: no
});

inline const bytes error_read_failure_body = cat({
    b({0x00, 0x00, 0x13, 0x00}),  // code 0x1300 Read_failure
    b({0x00, 0x07}), str("failure"),  // message
    b({0x00, 0x06}),              // cl LOCAL_QUORUM
    b({0x00, 0x00, 0x00, 0x01}),  // received 1
    b({0x00, 0x00, 0x00, 0x02}),  // blockfor 2
    b({0x00, 0x00, 0x00, 0x01}),  // numfailures 1
    b({0x01}),                    // data_present: yes
});

inline const bytes error_function_failure_body = cat({
    b({0x00, 0x00, 0x14, 0x00}),   // code 0x1400 Function_failure
    b({0x00, 0x04}), str("oops"),  // message
    b({0x00, 0x04}), str("demo"),  // keyspace
    b({0x00, 0x01}), str("f"),     // function
    b({0x00, 0x01}),               // [string list] arg_types: 1
    b({0x00, 0x03}), str("int"),   //
});

inline const bytes error_write_failure_body = cat({
    b({0x00, 0x00, 0x15, 0x00}),  // code 0x1500 Write_failure
    b({0x00, 0x07}), str("failure"),  // message
    b({0x00, 0x01}),              // cl ONE
    b({0x00, 0x00, 0x00, 0x00}),  // received 0
    b({0x00, 0x00, 0x00, 0x01}),  // blockfor 1
    b({0x00, 0x00, 0x00, 0x01}),  // numfailures 1
    b({0x00, 0x09}), str("BATCH_LOG"),  // write_type
});

inline const bytes error_syntax_body = cat({
    b({0x00, 0x00, 0x20, 0x00}),  // code 0x2000 Syntax_error
    b({0x00, 0x2E}), str("line 1:7 no viable alternative at input 'FORM'"),  // message
});

inline const bytes error_unauthorized_body = cat({
    b({0x00, 0x00, 0x21, 0x00}),   // code 0x2100 Unauthorized
    b({0x00, 0x04}), str("nope"),  // message
});

inline const bytes error_invalid_body = cat({
    b({0x00, 0x00, 0x22, 0x00}),  // code 0x2200 Invalid
    b({0x00, 0x17}), str("unconfigured table nope"),  // message
});

inline const bytes error_config_body = cat({
    b({0x00, 0x00, 0x23, 0x00}),     // code 0x2300 Config_error
    b({0x00, 0x06}), str("config"),  // message
});

inline const bytes error_already_exists_body = cat({
    b({0x00, 0x00, 0x24, 0x00}),  // code 0x2400 Already_exists
    b({0x00, 0x1C}), str("Keyspace demo already exists"),  // message
    b({0x00, 0x04}), str("demo"),  // keyspace
    b({0x00, 0x00}),               // table: "" (a keyspace exists)
});

inline const bytes error_unprepared_body = cat({
    b({0x00, 0x00, 0x25, 0x00}),  // code 0x2500 Unprepared
    b({0x00, 0x25}), str("Prepared query with ID abcd not found"),  // message
    b({0x00, 0x02, 0xAB, 0xCD}),  // [short bytes] id ab cd
});

// ---- Catalogues (for loops over every vector and the fuzz corpora) --------------------------

struct named_body {
  const char* name;
  int opcode;
  const bytes* body;
};

inline const std::vector<named_body> request_bodies = {
    {"startup", 0x01, &startup_body},
    {"options", 0x05, &options_body},
    {"query_simple", 0x07, &query_simple_body},
    {"query_all_flags", 0x07, &query_all_flags_body},
    {"query_named_values", 0x07, &query_named_values_body},
    {"prepare", 0x09, &prepare_body},
    {"execute", 0x0A, &execute_body},
    {"register", 0x0B, &register_body},
};

inline const std::vector<named_body> error_bodies = {
    {"error_server", 0x00, &error_server_body},
    {"error_protocol", 0x00, &error_protocol_body},
    {"error_authentication", 0x00, &error_authentication_body},
    {"error_unavailable", 0x00, &error_unavailable_body},
    {"error_overloaded", 0x00, &error_overloaded_body},
    {"error_is_bootstrapping", 0x00, &error_is_bootstrapping_body},
    {"error_truncate", 0x00, &error_truncate_body},
    {"error_write_timeout", 0x00, &error_write_timeout_body},
    {"error_read_timeout", 0x00, &error_read_timeout_body},
    {"error_read_failure", 0x00, &error_read_failure_body},
    {"error_function_failure", 0x00, &error_function_failure_body},
    {"error_write_failure", 0x00, &error_write_failure_body},
    {"error_syntax", 0x00, &error_syntax_body},
    {"error_unauthorized", 0x00, &error_unauthorized_body},
    {"error_invalid", 0x00, &error_invalid_body},
    {"error_config", 0x00, &error_config_body},
    {"error_already_exists", 0x00, &error_already_exists_body},
    {"error_unprepared", 0x00, &error_unprepared_body},
};

inline const std::vector<named_body> rows_bodies = {
    {"rows_global", 0x08, &rows_global_body},
    {"rows_per_column", 0x08, &rows_per_column_body},
    {"rows_no_metadata", 0x08, &rows_no_metadata_body},
    {"rows_empty_more_pages", 0x08, &rows_empty_more_pages_body},
};

inline const std::vector<named_body> other_response_bodies = {
    {"ready", 0x02, &ready_body},
    {"supported", 0x06, &supported_body},
    {"result_void", 0x08, &result_void_body},
    {"result_set_keyspace", 0x08, &result_set_keyspace_body},
    {"result_schema_change_table", 0x08, &result_schema_change_table_body},
    {"result_schema_change_keyspace", 0x08, &result_schema_change_keyspace_body},
    {"result_schema_change_function", 0x08, &result_schema_change_function_body},
    {"result_prepared", 0x08, &result_prepared_body},
    {"result_prepared_insert", 0x08, &result_prepared_insert_body},
};

/// Every response body: the errors, the Rows results and the rest.
inline std::vector<named_body> all_response_bodies() {
  std::vector<named_body> out = other_response_bodies;
  out.insert(out.end(), error_bodies.begin(), error_bodies.end());
  out.insert(out.end(), rows_bodies.begin(), rows_bodies.end());
  return out;
}

}  // namespace scopekit::cql::test
