// server_request_seeds - writes or checks the seed corpus of server_request_fuzzer
// (tests/fuzz/corpus/server_request_fuzzer/): one file per seed, a control byte (see
// server_request_fuzzer.cpp) followed by request frames. EXECUTE ids and paging states are the
// ones the fixture's server hands out (read from its answers), so that the seeds reach the
// statements' execution instead of stopping at "unprepared" or "invalid paging state".
//
//   build/fuzz/tests/fuzz/server_request_seeds write tests/fuzz/corpus/server_request_fuzzer
//   build/fuzz/tests/fuzz/server_request_seeds check tests/fuzz/corpus/server_request_fuzzer
//
// `check` exits 1 if a seed file is missing or differs (run_fuzzers.sh runs it); `write`
// (re)writes them all. Files in the folder that are not seeds are left alone.
#include "server_fixture.hpp"

#include <cstddef>
#include <cstdint>
#include <filesystem>
#include <fstream>
#include <iostream>
#include <iterator>
#include <string>
#include <string_view>
#include <utility>
#include <variant>
#include <vector>

namespace {

namespace cql = scopekit::cql;
namespace fuzz = scopekit::cql::fuzz;
namespace fs = std::filesystem;
using fuzz::bytes;

constexpr const char* who = "server_request_seeds";

// Control bytes (server_request_fuzzer.cpp).
constexpr std::uint8_t with_startup = 0x00;
constexpr std::uint8_t without_startup = 0x01;
constexpr std::uint8_t two_chunks = 0x02;
constexpr std::uint8_t three_chunks = 0x04;
constexpr std::uint8_t small_limit = 0x08;

struct seed {
  std::string name;
  std::uint8_t control;
  bytes stream;
};

// The answers of a fresh fixture to STARTUP + `frames`.
std::vector<cql::response> ask(const bytes& frames) {
  fuzz::fixture server;
  cql::server_detail::connection_session s = server.connect();
  bytes out;
  std::vector<cql::server_detail::deferred_response> later;
  const bytes in = fuzz::stream_of({fuzz::startup_frame(), frames});
  if (!s.consume(in, out, later)) {
    fuzz::fail(who, "the fixture closed the connection");
  }
  return fuzz::decode_responses(out, who);
}

// The id the fixture's server gives `statement` when prepared with no keyspace in use.
bytes prepared_id(const std::string& statement) {
  const auto answers = ask(fuzz::request_frame(1, cql::prepare_request{statement}));
  const auto* prepared = std::get_if<cql::prepared_result>(&answers.back().message);
  if (prepared == nullptr) {
    fuzz::fail(who, "PREPARE " + statement + " did not answer Prepared");
  }
  return prepared->id;
}

// The paging state of the first page of `statement` with `parameters`.
bytes paging_state(const std::string& statement, const cql::query_parameters& parameters) {
  const auto answers = ask(fuzz::query_frame(1, statement, parameters));
  const auto* rows = std::get_if<cql::rows_result>(&answers.back().message);
  if (rows == nullptr || !rows->metadata().paging_state) {
    fuzz::fail(who, statement + " did not answer a page with a paging state");
  }
  return *rows->metadata().paging_state;
}

// A frame written field by field, for headers and bodies the encoder would not produce.
bytes raw_frame(std::uint8_t version, std::uint8_t flags, std::int16_t stream, std::uint8_t op,
                std::int32_t length, const bytes& body) {
  bytes out;
  cql::byte_writer w{out};
  w.write_byte(version);
  w.write_byte(flags);
  w.write_short(static_cast<std::uint16_t>(stream));
  w.write_byte(op);
  w.write_int(length);
  w.write_raw(body);
  return out;
}

bytes long_string(std::string_view text) {
  bytes out;
  cql::byte_writer w{out};
  w.write_long_string(text);
  return out;
}

std::vector<seed> seeds() {
  using cql::query_value;
  std::vector<seed> out;

  out.push_back({"options_register", with_startup,
                 fuzz::stream_of({fuzz::request_frame(1, cql::options_request{}),
                                  fuzz::request_frame(2, cql::register_request{
                                                             {"TOPOLOGY_CHANGE", "STATUS_CHANGE",
                                                              "SCHEMA_CHANGE"}})})});

  // The handshake itself: OPTIONS and a QUERY before STARTUP, STARTUP refused twice, accepted,
  // then repeated.
  out.push_back(
      {"handshake", without_startup,
       fuzz::stream_of({fuzz::request_frame(1, cql::options_request{}),
                        fuzz::query_frame(2, "SELECT * FROM system.local"),
                        fuzz::request_frame(3, cql::startup_request{{{"CQL_VERSION", "3.0.0"},
                                                                     {"COMPRESSION", "lz4"}}}),
                        fuzz::request_frame(4, cql::startup_request{{{"DRIVER_NAME", "x"}}}),
                        fuzz::startup_frame(),
                        fuzz::request_frame(5, cql::startup_request{{{"CQL_VERSION", "3.0.0"}}}),
                        fuzz::query_frame(6, "SELECT release_version FROM system.local")})});

  out.push_back(
      {"create_keyspace_table_drop", with_startup,
       fuzz::stream_of({
           fuzz::query_frame(1, "CREATE KEYSPACE IF NOT EXISTS k2 WITH replication = {'class': "
                                "'SimpleStrategy', 'replication_factor': 3} AND "
                                "durable_writes = false"),
           fuzz::query_frame(2, "CREATE TABLE k2.t2 (id bigint, name text, tags set<text>, "
                                "PRIMARY KEY (id))"),
           fuzz::query_frame(3, "CREATE TABLE IF NOT EXISTS k2.t2 (id bigint PRIMARY KEY)"),
           fuzz::query_frame(4, "INSERT INTO k2.t2 (id, name, tags) VALUES (7, 'seven', {'x'})"),
           fuzz::query_frame(5, "SELECT name, tags FROM k2.t2 WHERE id = 7"),
           fuzz::query_frame(6, "DROP TABLE k2.t2"),
           fuzz::query_frame(7, "DROP KEYSPACE IF EXISTS k2"),
           fuzz::query_frame(8, "DROP KEYSPACE k2"),
       })});

  out.push_back(
      {"insert_literals", with_startup,
       fuzz::stream_of({
           fuzz::query_frame(1, "INSERT INTO ks.t (k, v, n, b, d, f, ok, u, tu, ts, ip, a, l, s, "
                                "m, fl) VALUES (3, 'it''s', -9223372036854775808, 0x, -0.0, "
                                "1e10, false, 00000000-0000-4000-8000-000000000000, "
                                "d2177dd0-eaa2-11de-a572-001b779c76e3, 0, '::1', '', [], {}, "
                                "{'k': -1}, [1])"),
           fuzz::query_frame(2, "INSERT INTO ks.t (k, v, l) VALUES (4, null, [2147483647])"),
           fuzz::query_frame(3, "INSERT INTO ks.t (k, v) VALUES (1, 'again')"),
           fuzz::query_frame(4, "SELECT * FROM ks.t"),
       })});

  {
    cql::query_parameters paged;
    paged.page_size = 4;
    cql::query_parameters all_flags;
    all_flags.consistency = cql::consistency::local_quorum;
    all_flags.skip_metadata = true;
    all_flags.page_size = 3;
    all_flags.serial_consistency = cql::consistency::local_serial;
    all_flags.default_timestamp = 1700000000000000;
    const std::string limited = "SELECT * FROM demo.rows LIMIT 10";
    cql::query_parameters next_page = paged;
    next_page.paging_state = paging_state(limited, paged);
    out.push_back({"select_where_limit_paging", with_startup,
                   fuzz::stream_of({
                       fuzz::query_frame(1, "SELECT id, name FROM demo.rows WHERE id = 3"),
                       fuzz::query_frame(2, limited, paged),
                       fuzz::query_frame(3, limited, next_page),
                       fuzz::query_frame(4, "SELECT payload FROM demo.rows", all_flags),
                       fuzz::query_frame(5, "select * from demo.rows where id = 99;"),
                   })});
    // The same stream cut into three chunks, and into two with the small frame limit.
    out.push_back({"select_paging_chunked", three_chunks | 0x50, out.back().stream});
    out.push_back({"select_unpaged_small_limit", two_chunks | small_limit | 0x30,
                   fuzz::stream_of({fuzz::query_frame(1, "SELECT * FROM demo.rows"),
                                    fuzz::query_frame(2, limited, paged)})});
  }

  out.push_back({"use_and_filtering", with_startup,
                 fuzz::stream_of({
                     fuzz::query_frame(1, "USE ks"),
                     fuzz::query_frame(2, "SELECT v, l, m FROM t WHERE k = 1"),
                     fuzz::query_frame(3, "SELECT k FROM t WHERE v = 'two' ALLOW FILTERING"),
                     fuzz::query_frame(4, "SELECT k FROM t WHERE v = 'two'"),
                     fuzz::query_frame(5, "USE nowhere"),
                 })});

  out.push_back(
      {"system_tables", with_startup,
       fuzz::stream_of({
           fuzz::query_frame(1, "SELECT * FROM system.local WHERE key = 'local'"),
           fuzz::query_frame(2, "SELECT * FROM system.peers"),
           fuzz::query_frame(3, "SELECT * FROM system.peers_v2"),
           fuzz::query_frame(4, "SELECT * FROM system_schema.keyspaces"),
           fuzz::query_frame(5, "SELECT * FROM system_schema.tables WHERE keyspace_name = 'ks'"),
           fuzz::query_frame(6, "SELECT column_name, type FROM system_schema.columns WHERE "
                                "keyspace_name = 'ks' AND table_name = 't'"),
       })});

  {
    const std::string select = "SELECT * FROM demo.rows WHERE id = ? LIMIT ?";
    cql::execute_request e{prepared_id(select), {}};
    e.parameters.values = {query_value::of(std::int64_t{5}), query_value::of(std::int32_t{1})};
    e.parameters.page_size = 10;
    cql::execute_request unset = e;
    unset.parameters.values[0] = query_value::not_set();
    out.push_back({"prepare_execute_select", with_startup,
                   fuzz::stream_of({fuzz::request_frame(1, cql::prepare_request{select}),
                                    fuzz::request_frame(2, e), fuzz::request_frame(3, unset)})});
  }
  {
    const std::string insert = "INSERT INTO ks.t (k, v, l, m) VALUES (?, ?, ?, ?)";
    cql::execute_request e{prepared_id(insert), {}};
    e.parameters.values = {
        query_value::of(std::int32_t{9}), query_value::of("nine"),
        query_value::of(cql::data_type::list(cql::type_id::int_),
                        cql::value::list{std::int32_t{1}, std::int32_t{2}}),
        query_value::null()};
    cql::execute_request too_few = e;
    too_few.parameters.values.pop_back();
    out.push_back({"prepare_execute_insert", with_startup,
                   fuzz::stream_of({fuzz::request_frame(1, cql::prepare_request{insert}),
                                    fuzz::request_frame(2, e), fuzz::request_frame(3, too_few),
                                    fuzz::query_frame(4, "SELECT * FROM ks.t WHERE k = 9")})});
  }
  {
    cql::execute_request e{bytes(16, std::byte{0xAB}), {}};
    cql::query_parameters by_name;
    by_name.values = {query_value::of(std::int32_t{1})};
    by_name.names = {"k"};
    out.push_back({"execute_unprepared_and_named", with_startup,
                   fuzz::stream_of({fuzz::request_frame(1, e),
                                    fuzz::query_frame(2, "SELECT * FROM ks.t WHERE k = ?",
                                                      by_name)})});
  }
  {
    cql::request traced;
    traced.stream = 1;
    traced.tracing = true;
    traced.custom_payload = {{"key", bytes{std::byte{1}}}};
    traced.message = cql::query_request{"SELECT * FROM ks.t WHERE k = 2", {}};
    bytes frame;
    cql::byte_writer w{frame};
    cql::encode_request(w, traced);
    out.push_back({"query_tracing_custom_payload", with_startup, frame});
  }

  // Nesting: literals and types as deep as the parser allows (32), and far deeper (each of
  // these overflowed the stack before the parser had a limit), within the fuzzer's -max_len.
  {
    auto nested = [](std::size_t depth, const std::string& open, const std::string& inner,
                     const std::string& close) {
      std::string out;
      for (std::size_t i = 0; i < depth; ++i) {
        out += open;
      }
      out += inner;
      for (std::size_t i = 0; i < depth; ++i) {
        out += close;
      }
      return out;
    };
    out.push_back(
        {"nesting_at_the_limit", with_startup,
         fuzz::stream_of({
             fuzz::query_frame(1, "CREATE TABLE ks.deep (k int PRIMARY KEY, v " +
                                      nested(16, "frozen<list<", "int", ">>") + ")"),
             fuzz::query_frame(2, "INSERT INTO ks.deep (k, v) VALUES (1, " +
                                      nested(16, "[", "7", "]") + ")"),
             fuzz::query_frame(3, "SELECT v FROM ks.deep WHERE k = " + nested(32, "[", "1", "]")),
             fuzz::query_frame(4, "SELECT v FROM ks.deep WHERE k = " + nested(33, "{", "1", "}")),
         })});
    out.push_back({"nesting_deep_list_literal", with_startup,
                   fuzz::query_frame(1, "SELECT * FROM ks.t WHERE k = " +
                                            nested(7000, "[", "1", "]"))});
    out.push_back({"nesting_deep_set_literal", with_startup,
                   fuzz::query_frame(1, "INSERT INTO ks.t (k, s) VALUES (1, " +
                                            nested(7000, "{", "'a'", "}") + ")")});
    out.push_back({"nesting_deep_type", with_startup,
                   fuzz::query_frame(1, "CREATE TABLE ks.d (k int PRIMARY KEY, v " +
                                            nested(2500, "list<", "int", ">") + ")")});
  }

  // What the server refuses: statements it does not support, and malformed frames (each of the
  // last ones closes the connection).
  out.push_back({"unsupported_statements", with_startup,
                 fuzz::stream_of({
                     fuzz::query_frame(1, "UPDATE ks.t SET v = 'x' WHERE k = 1"),
                     fuzz::query_frame(2, "SELECT count(*) FROM ks.t"),
                     fuzz::query_frame(3, "SELECT * FROM ks.t WHERE k > 1"),
                     fuzz::query_frame(4, "CREATE TABLE ks.c (a int, b int, PRIMARY KEY (a, b))"),
                     fuzz::query_frame(5, "INSERT INTO demo.rows (id) VALUES (1)"),
                     fuzz::query_frame(6, "SELECT * FROM ks.t WHERE k = 'unterminated"),
                     raw_frame(0x04, 0x00, 7, 0x0D, 3, bytes(3)),  // BATCH
                 })});
  out.push_back({"malformed_version", with_startup, raw_frame(0x03, 0x00, 1, 0x05, 0, {})});
  out.push_back({"malformed_response_bit", with_startup, raw_frame(0x84, 0x00, 1, 0x05, 0, {})});
  out.push_back(
      {"malformed_negative_length", with_startup, raw_frame(0x04, 0x00, 1, 0x07, -1, {})});
  out.push_back({"malformed_over_limit", small_limit,
                 raw_frame(0x04, 0x00, 1, 0x07, fuzz::small_frame_limit + 1, {})});
  out.push_back({"malformed_compressed", with_startup,
                 raw_frame(0x04, 0x01, 1, 0x07, 4, bytes(4))});
  out.push_back({"malformed_unknown_opcode", with_startup, raw_frame(0x04, 0x00, 1, 0x03, 0, {})});
  {
    bytes truncated = long_string("SELECT * FROM ks.t");
    truncated.resize(10);
    bytes trailing = long_string("SELECT * FROM ks.t");
    trailing.insert(trailing.end(), {std::byte{0}, std::byte{1}, std::byte{0}, std::byte{0xFF}});
    out.push_back({"malformed_trailing_bytes", with_startup,
                   raw_frame(0x04, 0x00, 1, 0x07, static_cast<std::int32_t>(trailing.size()),
                             trailing)});
    out.push_back({"malformed_truncated_string", with_startup,
                   raw_frame(0x04, 0x00, 1, 0x07, static_cast<std::int32_t>(truncated.size()),
                             truncated)});
  }
  return out;
}

bytes with_control(const seed& s) {
  bytes out{static_cast<std::byte>(s.control)};
  out.insert(out.end(), s.stream.begin(), s.stream.end());
  return out;
}

bytes read_file(const fs::path& path) {
  std::ifstream in(path, std::ios::binary);
  const std::vector<char> chars((std::istreambuf_iterator<char>(in)),
                                std::istreambuf_iterator<char>());
  bytes out;
  out.reserve(chars.size());
  for (const char c : chars) {
    out.push_back(static_cast<std::byte>(c));
  }
  return out;
}

}  // namespace

int main(int argc, char** argv) {
  const std::vector<std::string_view> args(argv, argv + argc);  // NOLINT(*-pointer-arithmetic)
  if (args.size() != 3 || (args[1] != "write" && args[1] != "check")) {
    std::cerr << "usage: server_request_seeds write|check DIRECTORY\n";
    return 2;
  }
  const bool write = args[1] == "write";
  const fs::path dir{args[2]};
  int status = 0;
  for (const seed& s : seeds()) {
    const fs::path path = dir / s.name;
    const bytes data = with_control(s);
    if (write) {
      fs::create_directories(dir);
      std::ofstream file(path, std::ios::binary | std::ios::trunc);
      file.write(reinterpret_cast<const char*>(data.data()),  // NOLINT(*-reinterpret-cast)
                 static_cast<std::streamsize>(data.size()));
      if (!file.good()) {
        std::cerr << who << ": cannot write " << path << '\n';
        return 1;
      }
    } else if (!fs::exists(path) || read_file(path) != data) {
      std::cerr << who << ": " << path
                << (fs::exists(path) ? " differs from" : " is missing:")
                << " its seed; rewrite the corpus with `server_request_seeds write " << dir.string()
                << "`\n";
      status = 1;
    }
  }
  return status;
}
