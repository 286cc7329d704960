// Tests for the statements of scopekit/cql/server/server.hpp: CREATE KEYSPACE / TABLE, DROP, USE,
// INSERT and SELECT with literals and bind markers, PREPARE / EXECUTE, paging, the synthetic
// tables and the system_schema tables. An in-process server on an ephemeral port, driven over
// TCP by the blocking client of test_client.hpp (every read has a receive timeout).
#include "scopekit/cql/server/server.hpp"

#include "support/cql/test_client.hpp"

#include "scopekit/cql/protocol/big_endian.hpp"
#include "scopekit/cql/protocol/data_type.hpp"
#include "scopekit/cql/protocol/request.hpp"
#include "scopekit/cql/protocol/response.hpp"
#include "scopekit/cql/protocol/rows.hpp"
#include "scopekit/cql/protocol/token.hpp"
#include "scopekit/cql/protocol/value.hpp"

#include <gtest/gtest.h>

#include <algorithm>
#include <array>
#include <atomic>
#include <chrono>
#include <cmath>
#include <cstddef>
#include <cstdint>
#include <limits>
#include <map>
#include <optional>
#include <set>
#include <span>
#include <stdexcept>
#include <string>
#include <string_view>
#include <thread>
#include <tuple>
#include <utility>
#include <variant>
#include <vector>

namespace scopekit::cql::test {
namespace {

using namespace std::chrono_literals;

/// Rows of the synthetic table demo.rows every test has.
constexpr std::int64_t demo_rows = 10'000;

bool is_void(const response& r) {
  return std::holds_alternative<void_result>(r.message);
}

schema_change_result schema_change(std::string change, std::string target, std::string keyspace,
                                   std::string name = {}) {
  return {std::move(change), std::move(target), std::move(keyspace), std::move(name), {}};
}

/// A [value] of `type`.
query_value bound(const data_type& type, const value& v) {
  return query_value::of(type, v);
}

/// Parameters binding `values` by position.
query_parameters with_values(std::vector<query_value> values) {
  query_parameters p;
  p.values = std::move(values);
  return p;
}

/// The cell (row, column `name`) decoded with the column's type.
value cell_value(const rows_result& rows, std::size_t row, std::string_view name) {
  const std::size_t i = column(rows, name);
  if (i >= rows.column_count() || row >= rows.row_count()) {
    ADD_FAILURE() << "no cell (" << row << ", " << name << ")";
    return {};
  }
  return decode_value(rows.metadata().columns[i].type, rows.cell(row, i));
}

/// The int column `name` of every row, in order.
std::vector<std::int32_t> ints_of(const rows_result& rows, std::string_view name) {
  std::vector<std::int32_t> out;
  const std::size_t i = column(rows, name);
  for (std::size_t r = 0; i < rows.column_count() && r < rows.row_count(); ++r) {
    out.push_back(decode_int(rows.cell(r, i)));
  }
  return out;
}

/// The int column 0 of every row of every page, in order.
std::vector<std::int32_t> ids_of(const std::vector<rows_result>& pages) {
  std::vector<std::int32_t> out;
  for (const rows_result& page : pages) {
    for (std::size_t r = 0; r < page.row_count(); ++r) {
      out.push_back(decode_int(page.cell(r, 0)));
    }
  }
  return out;
}

std::vector<std::int32_t> iota_ints(std::int32_t begin, std::int32_t end) {
  std::vector<std::int32_t> out;
  for (std::int32_t i = begin; i < end; ++i) {
    out.push_back(i);
  }
  return out;
}

/// The Murmur3 token of an int key (4 bytes big-endian), as Cassandra's token(id).
std::int64_t int_token(std::int32_t id) {
  std::array<std::byte, 4> key{};
  store_be(id, key);
  return murmur3_token(key);
}

/// `ids` (int keys) in the order a stored table returns them: by token.
std::vector<std::int32_t> token_ordered(std::vector<std::int32_t> ids) {
  std::sort(ids.begin(), ids.end(),
            [](std::int32_t a, std::int32_t b) { return int_token(a) < int_token(b); });
  return ids;
}

/// The first `n` of `ids` in token order.
std::vector<std::int32_t> first_by_token(std::vector<std::int32_t> ids, std::size_t n) {
  ids = token_ordered(std::move(ids));
  ids.resize(std::min(n, ids.size()));
  return ids;
}

/// What a synthetic row's payload must be: byte i is (id * 31 + i) mod 256.
bytes expected_payload(std::int64_t id) {
  bytes out(100);
  for (std::size_t i = 0; i < out.size(); ++i) {
    out[i] = static_cast<std::byte>((static_cast<std::uint64_t>(id) * 31U + i) & 0xFFU);
  }
  return out;
}

bytes blob_of(std::span<const std::byte> b) {
  return {b.begin(), b.end()};
}

class CqlStatements : public ::testing::Test {
protected:
  void SetUp() override {
    srv_.add_synthetic_table("demo", "rows", demo_rows);
    srv_.start();
    client_.emplace(srv_.port());
    client_->start();
  }

  client& c() { return *client_; }
  std::uint16_t port() const { return srv_.port(); }

  /// Runs `statement`, which must not fail, and returns its response.
  response run(const std::string& statement, query_parameters parameters = {}) {
    response r = c().query(statement, std::move(parameters));
    EXPECT_FALSE(std::holds_alternative<error_response>(r.message))
        << statement << ": " << describe(r);
    return r;
  }

  /// The ERROR that `statement` must be answered with.
  error_response refused(const std::string& statement, query_parameters parameters = {}) {
    const response r = c().query(statement, std::move(parameters));
    if (!std::holds_alternative<error_response>(r.message)) {
      ADD_FAILURE() << statement << ": expected an ERROR, got " << describe(r);
      return {};
    }
    return std::get<error_response>(r.message);
  }

  /// The Rows of `statement`.
  rows_result select(const std::string& statement, query_parameters parameters = {}) {
    const response r = c().query(statement, std::move(parameters));
    if (!std::holds_alternative<rows_result>(r.message)) {
      ADD_FAILURE() << statement << ": expected Rows, got " << describe(r);
      return {};
    }
    return std::get<rows_result>(r.message);
  }

  void create_keyspace(const std::string& name) {
    run("CREATE KEYSPACE " + name +
        " WITH replication = {'class': 'SimpleStrategy', 'replication_factor': 1}");
  }

  /// ks.kv (id int PRIMARY KEY, v text, n bigint).
  void create_kv() {
    create_keyspace("ks");
    run("CREATE TABLE ks.kv (id int PRIMARY KEY, v text, n bigint)");
  }

  /// ks.p (id int PRIMARY KEY, v text) with ids 0 to rows - 1, v = "v<id>".
  void create_paged_table(int rows) {
    create_keyspace("ks");
    run("CREATE TABLE ks.p (id int PRIMARY KEY, v text)");
    for (int i = 0; i < rows; ++i) {
      run("INSERT INTO ks.p (id, v) VALUES (" + std::to_string(i) + ", 'v" + std::to_string(i) +
          "')");
    }
  }

  /// The prepared id of `statement`.
  std::vector<std::byte> prepared_id(const std::string& statement) {
    const auto p = message_of<prepared_result>(c().prepare(statement));
    EXPECT_FALSE(p.id.empty()) << statement;
    return p.id;
  }

  server srv_;
  std::optional<client> client_;
};

// ---- CREATE KEYSPACE ----------------------------------------------------------------------

TEST_F(CqlStatements, CreateKeyspaceAnswersSchemaChangeCreatedKeyspace) {
  const response r = c().query(
      "CREATE KEYSPACE ks WITH replication = {'class': 'SimpleStrategy', 'replication_factor': 1}");
  EXPECT_EQ(message_of<schema_change_result>(r), schema_change("CREATED", "KEYSPACE", "ks"));
  EXPECT_EQ(message_of<set_keyspace_result>(c().query("USE ks")).keyspace, "ks");
}

TEST_F(CqlStatements, CreateKeyspaceTwiceIsAlreadyExistsWithTheKeyspace) {
  create_keyspace("ks");
  const error_response e = refused(
      "CREATE KEYSPACE ks WITH replication = {'class': 'SimpleStrategy', 'replication_factor': 1}");
  EXPECT_EQ(e.code, error_code::already_exists);
  EXPECT_EQ(e.message, "Cannot add existing keyspace \"ks\"");
  EXPECT_EQ(e.details, error_details{(already_exists_error{"ks", ""})});  // no table: a keyspace
}

TEST_F(CqlStatements, CreateKeyspaceIfNotExistsIsVoidAndLeavesTheKeyspaceAlone) {
  run("CREATE KEYSPACE ks WITH replication = {'class': 'SimpleStrategy', 'replication_factor': 1} "
      "AND durable_writes = false");
  const response again = c().query(
      "CREATE KEYSPACE IF NOT EXISTS ks WITH replication = {'class': 'SimpleStrategy', "
      "'replication_factor': 3} AND durable_writes = true");
  EXPECT_TRUE(is_void(again)) << describe(again);
  const rows_result rows =
      select("SELECT durable_writes FROM system_schema.keyspaces WHERE keyspace_name = 'ks'");
  ASSERT_EQ(rows.row_count(), 1U);
  EXPECT_FALSE(decode_boolean(rows.cell(0, 0)));  // the first definition stays

  const response fresh = c().query(
      "CREATE KEYSPACE IF NOT EXISTS other WITH replication = {'class': 'SimpleStrategy', "
      "'replication_factor': 1}");
  EXPECT_EQ(message_of<schema_change_result>(fresh), schema_change("CREATED", "KEYSPACE", "other"));
}

TEST_F(CqlStatements, CreateKeyspaceWithoutAReplicationClassIsAConfigError) {
  const error_response e =
      refused("CREATE KEYSPACE ks WITH replication = {'replication_factor': 1}");
  EXPECT_EQ(e.code, error_code::config_error);
  EXPECT_EQ(e.message, "Missing mandatory replication strategy class");
  EXPECT_EQ(refused("USE ks").message, "Keyspace 'ks' does not exist");  // nothing was created
}

TEST_F(CqlStatements, SystemKeyspacesCannotBeModified) {
  for (const char* statement :
       {"CREATE KEYSPACE system WITH replication = {'class': 'SimpleStrategy'}",
        "CREATE KEYSPACE system_schema WITH replication = {'class': 'SimpleStrategy'}",
        "CREATE KEYSPACE IF NOT EXISTS system WITH replication = {'class': 'SimpleStrategy'}",
        "DROP KEYSPACE system", "DROP KEYSPACE IF EXISTS system_schema",
        "CREATE TABLE system.mine (id int PRIMARY KEY)", "DROP TABLE system_schema.tables",
        "INSERT INTO system.local (key, cluster_name) VALUES ('local', 'x')"}) {
    SCOPED_TRACE(statement);
    const error_response e = refused(statement);
    EXPECT_EQ(e.code, error_code::unauthorized);
    EXPECT_TRUE(contains(e.message, "keyspace is not user-modifiable")) << e.message;
  }
  const rows_result local = select("SELECT cluster_name FROM system.local");
  ASSERT_EQ(local.row_count(), 1U);
  EXPECT_EQ(decode_text(local.cell(0, 0)), "scopekit");  // the refused INSERT changed nothing
  EXPECT_EQ(select("SELECT * FROM system_schema.tables").column_count(), 20U);
}

TEST_F(CqlStatements, ReplicationClassesAreQualifiedAsCassandraReportsThem) {
  run("CREATE KEYSPACE simple WITH replication = {'class': 'SimpleStrategy', "
      "'replication_factor': 2}");
  run("CREATE KEYSPACE nts WITH replication = {'class': 'NetworkTopologyStrategy', "
      "'datacenter1': 3} AND durable_writes = false");
  run("CREATE KEYSPACE custom WITH replication = {'class': 'com.example.Strategy'}");
  const rows_result rows = select(
      "SELECT keyspace_name, durable_writes, replication "
      "FROM system_schema.keyspaces");
  std::map<std::string, std::pair<bool, value>> found;
  for (std::size_t r = 0; r < rows.row_count(); ++r) {
    found[std::string(decode_text(rows.cell(r, 0)))] = {decode_boolean(rows.cell(r, 1)),
                                                        cell_value(rows, r, "replication")};
  }
  const auto text_map = [](const std::vector<std::pair<std::string, std::string>>& entries) {
    value::map out;
    for (const auto& [k, v] : entries) {
      out.emplace_back(value{k}, value{v});
    }
    return value{std::move(out)};
  };
  ASSERT_EQ(found.count("simple"), 1U);
  EXPECT_EQ(found["simple"],
            std::pair(true, text_map({{"class", "org.apache.cassandra.locator.SimpleStrategy"},
                                      {"replication_factor", "2"}})));
  ASSERT_EQ(found.count("nts"), 1U);
  EXPECT_EQ(found["nts"], std::pair(false, text_map({{"class",
                                                      "org.apache.cassandra.locator."
                                                      "NetworkTopologyStrategy"},
                                                     {"datacenter1", "3"}})));
  ASSERT_EQ(found.count("custom"), 1U);
  EXPECT_EQ(found["custom"], std::pair(true, text_map({{"class", "com.example.Strategy"}})));
  EXPECT_EQ(found.count("demo"), 1U);  // the synthetic table's keyspace is listed too
}

// ---- CREATE TABLE ---------------------------------------------------------------------------

TEST_F(CqlStatements, CreateTableWithEverySupportedType) {
  create_keyspace("ks");
  const response r = c().query(
      "CREATE TABLE ks.all_types (id int PRIMARY KEY, a ascii, b bigint, bl blob, bo boolean, "
      "d double, f float, i int, ts timestamp, u uuid, tu timeuuid, t text, vc varchar, ip inet, "
      "l list<int>, s set<text>, m map<text, int>, fl frozen<list<int>>, "
      "fm frozen<map<int, frozen<set<text>>>>, nested list<frozen<map<text, bigint>>>)");
  EXPECT_EQ(message_of<schema_change_result>(r),
            schema_change("CREATED", "TABLE", "ks", "all_types"));

  const rows_result rows = select("SELECT * FROM ks.all_types");
  EXPECT_EQ(rows.row_count(), 0U);
  EXPECT_EQ(rows.metadata().global_table, (table_spec{"ks", "all_types"}));
  const std::vector<std::pair<std::string, data_type>> expected = {
      {"id", type_id::int_},
      {"a", type_id::ascii},
      {"b", type_id::bigint},
      {"bl", type_id::blob},
      {"bo", type_id::boolean},
      {"d", type_id::double_},
      {"f", type_id::float_},
      {"i", type_id::int_},
      {"ts", type_id::timestamp},
      {"u", type_id::uuid},
      {"tu", type_id::timeuuid},
      {"t", type_id::varchar},
      {"vc", type_id::varchar},
      {"ip", type_id::inet},
      {"l", data_type::list(type_id::int_)},
      {"s", data_type::set(type_id::varchar)},
      {"m", data_type::map(type_id::varchar, type_id::int_)},
      {"fl", data_type::list(type_id::int_)},
      {"fm", data_type::map(type_id::int_, data_type::set(type_id::varchar))},
      {"nested", data_type::list(data_type::map(type_id::varchar, type_id::bigint))},
  };
  ASSERT_EQ(rows.metadata().columns.size(), expected.size());
  for (std::size_t i = 0; i < expected.size(); ++i) {
    SCOPED_TRACE(expected[i].first);
    EXPECT_EQ(rows.metadata().columns[i].name, expected[i].first);  // in definition order
    EXPECT_EQ(rows.metadata().columns[i].type, expected[i].second);
  }
}

TEST_F(CqlStatements, PrimaryKeyInlineOrAsAClauseMakesThatColumnThePartitionKey) {
  create_keyspace("ks");
  run("CREATE TABLE ks.inline (v text, id int PRIMARY KEY)");
  run("CREATE TABLE ks.clause (v text, id int, PRIMARY KEY (id))");
  run("CREATE TABLE ks.trailing (id int, v text, PRIMARY KEY (id),)");
  for (const char* table : {"inline", "clause", "trailing"}) {
    SCOPED_TRACE(table);
    const rows_result rows =
        select(std::string("SELECT column_name, kind FROM system_schema.columns WHERE "
                           "keyspace_name = 'ks' AND table_name = '") +
               table + "'");
    std::map<std::string, std::string> kinds;
    for (std::size_t r = 0; r < rows.row_count(); ++r) {
      kinds[std::string(decode_text(rows.cell(r, 0)))] = decode_text(rows.cell(r, 1));
    }
    EXPECT_EQ(kinds,
              (std::map<std::string, std::string>{{"id", "partition_key"}, {"v", "regular"}}));
    // The key is what a row needs and what WHERE picks a row by.
    const error_response missing =
        refused(std::string("INSERT INTO ks.") + table + " (v) VALUES ('x')");
    EXPECT_EQ(missing.message, "Some partition key parts are missing: id");
  }
}

TEST_F(CqlStatements, CreateTableWithoutAPrimaryKeyIsInvalid) {
  create_keyspace("ks");
  const error_response e = refused("CREATE TABLE ks.t (id int, v text)");
  EXPECT_EQ(e.code, error_code::invalid);
  EXPECT_TRUE(contains(e.message, "No PRIMARY KEY specifed")) << e.message;
  EXPECT_EQ(refused("SELECT * FROM ks.t").message, "unconfigured table t");
}

TEST_F(CqlStatements, CreateTableWithTwoPrimaryKeysIsInvalid) {
  create_keyspace("ks");
  for (const char* statement : {"CREATE TABLE ks.t (id int PRIMARY KEY, v text PRIMARY KEY)",
                                "CREATE TABLE ks.t (id int PRIMARY KEY, v text, PRIMARY KEY (v))",
                                "CREATE TABLE ks.t (id int, v text, PRIMARY KEY (id), "
                                "PRIMARY KEY (v))"}) {
    SCOPED_TRACE(statement);
    const error_response e = refused(statement);
    EXPECT_EQ(e.code, error_code::invalid);
    EXPECT_EQ(e.message, "Multiple PRIMARY KEYs specified");
  }
  EXPECT_EQ(refused("SELECT * FROM ks.t").message, "unconfigured table t");
}

TEST_F(CqlStatements, CreateTableWithAnUnknownKeyColumnIsInvalid) {
  create_keyspace("ks");
  const error_response e = refused("CREATE TABLE ks.t (id int, v text, PRIMARY KEY (nope))");
  EXPECT_EQ(e.code, error_code::invalid);
  EXPECT_EQ(e.message, "Unknown definition nope referenced in PRIMARY KEY");
}

TEST_F(CqlStatements, ClusteringColumnsAreNotSupported) {
  create_keyspace("ks");
  const error_response e =
      refused("CREATE TABLE ks.t (id int, c int, v text, PRIMARY KEY (id, c))");
  EXPECT_EQ(e.code, error_code::invalid);
  EXPECT_TRUE(contains(e.message, "a clustering column is not supported")) << e.message;
  EXPECT_EQ(refused("SELECT * FROM ks.t").message, "unconfigured table t");
}

TEST_F(CqlStatements, CompositePartitionKeysAreNotSupported) {
  create_keyspace("ks");
  const error_response e =
      refused("CREATE TABLE ks.t (a int, b int, v text, PRIMARY KEY ((a, b)))");
  EXPECT_EQ(e.code, error_code::invalid);
  EXPECT_TRUE(contains(e.message, "a composite partition key is not supported")) << e.message;
}

TEST_F(CqlStatements, UnsupportedColumnTypesAreRefused) {
  create_keyspace("ks");
  for (const char* type : {"decimal", "counter", "varint", "date", "time", "smallint", "tinyint",
                           "duration", "list<decimal>", "map<text, counter>"}) {
    SCOPED_TRACE(type);
    const error_response e =
        refused(std::string("CREATE TABLE ks.t (id int PRIMARY KEY, v ") + type + ")");
    EXPECT_EQ(e.code, error_code::invalid);
    EXPECT_TRUE(contains(e.message, " is not supported by scopekit's embedded CQL server"))
        << e.message;
  }
  EXPECT_EQ(refused("SELECT * FROM ks.t").message, "unconfigured table t");
}

TEST_F(CqlStatements, NonFrozenCollectionsCannotBeKeysAndFrozenNeedsACollection) {
  create_keyspace("ks");
  const error_response key = refused("CREATE TABLE ks.t (id list<int> PRIMARY KEY)");
  EXPECT_EQ(key.code, error_code::invalid);
  EXPECT_TRUE(contains(key.message, "Invalid non-frozen collection type")) << key.message;
  run("CREATE TABLE ks.frozen_key (id frozen<list<int>> PRIMARY KEY, v text)");
  const error_response frozen = refused("CREATE TABLE ks.t (id int PRIMARY KEY, v frozen<int>)");
  EXPECT_EQ(frozen.code, error_code::invalid);
}

TEST_F(CqlStatements, CreateTableInAnUnknownKeyspaceIsInvalid) {
  const error_response e = refused("CREATE TABLE nope.t (id int PRIMARY KEY)");
  EXPECT_EQ(e.code, error_code::invalid);
  EXPECT_EQ(e.message, "Keyspace nope doesn't exist");
}

TEST_F(CqlStatements, CreateTableTwiceIsAlreadyExistsWithKeyspaceAndTable) {
  create_keyspace("ks");
  run("CREATE TABLE ks.t (id int PRIMARY KEY, v text)");
  const error_response e = refused("CREATE TABLE ks.t (id int PRIMARY KEY, w int)");
  EXPECT_EQ(e.code, error_code::already_exists);
  EXPECT_EQ(e.message, "Object ks.t already exists");
  EXPECT_EQ(e.details, error_details{(already_exists_error{"ks", "t"})});
}

TEST_F(CqlStatements, CreateTableIfNotExistsIsVoidAndKeepsTheFirstDefinition) {
  create_keyspace("ks");
  run("CREATE TABLE ks.t (id int PRIMARY KEY, v text)");
  const response r = c().query("CREATE TABLE IF NOT EXISTS ks.t (id int PRIMARY KEY, w int)");
  EXPECT_TRUE(is_void(r)) << describe(r);
  const rows_result rows = select("SELECT * FROM ks.t");
  ASSERT_EQ(rows.column_count(), 2U);
  EXPECT_EQ(rows.metadata().columns[1].name, "v");

  const response fresh = c().query("CREATE TABLE IF NOT EXISTS ks.u (id int PRIMARY KEY)");
  EXPECT_EQ(message_of<schema_change_result>(fresh), schema_change("CREATED", "TABLE", "ks", "u"));
}

TEST_F(CqlStatements, TableOptionsAreAcceptedAndIgnored) {
  create_keyspace("ks");
  run("CREATE TABLE ks.t (id int PRIMARY KEY, v text) WITH comment = 'hello' AND "
      "gc_grace_seconds = 10 AND compaction = {'class': 'LeveledCompactionStrategy'}");
  EXPECT_EQ(select("SELECT * FROM ks.t").column_count(), 2U);
}

// ---- INSERT with literals -------------------------------------------------------------------

class CqlInsertLiterals : public CqlStatements {
protected:
  void SetUp() override {
    CqlStatements::SetUp();
    create_keyspace("ks");
    run("CREATE TABLE ks.all_types (id int PRIMARY KEY, a ascii, b bigint, bl blob, bo boolean, "
        "d double, f float, i int, ts timestamp, u uuid, tu timeuuid, t text, vc varchar, "
        "ip inet, l list<int>, s set<text>, m map<text, int>, fl frozen<list<int>>, "
        "nested map<text, frozen<list<frozen<set<int>>>>>)");
  }

  /// The row with key `id`, every column.
  rows_result row(int id) {
    rows_result rows = select("SELECT * FROM ks.all_types WHERE id = " + std::to_string(id));
    EXPECT_EQ(rows.row_count(), 1U) << "row " << id;
    return rows;
  }
};

TEST_F(CqlInsertLiterals, ScalarsReadBackWithTheirValues) {
  const response r = c().query(
      "INSERT INTO ks.all_types (id, a, b, bl, bo, d, f, i, ts, u, tu, t, vc, ip) VALUES "
      "(1, 'plain ascii', -9223372036854775808, 0xCAFE, true, -2.5, 3.25, -2147483648, "
      "1577934245123, 550E8400-E29B-41D4-A716-446655440000, "
      "50554d6e-29bb-11e5-b345-feff819cdc9f, 'h\xC3\xA9llo ''quoted''', '', '127.0.0.1')");
  EXPECT_TRUE(is_void(r)) << describe(r);
  const rows_result rows = row(1);
  ASSERT_EQ(rows.row_count(), 1U);
  EXPECT_EQ(decode_ascii(rows.cell(0, column(rows, "a"))), "plain ascii");
  EXPECT_EQ(decode_bigint(rows.cell(0, column(rows, "b"))),
            std::numeric_limits<std::int64_t>::min());
  EXPECT_EQ(blob_of(decode_blob(rows.cell(0, column(rows, "bl")))),
            (bytes{std::byte{0xCA}, std::byte{0xFE}}));
  EXPECT_TRUE(decode_boolean(rows.cell(0, column(rows, "bo"))));
  EXPECT_EQ(decode_double(rows.cell(0, column(rows, "d"))), -2.5);
  EXPECT_EQ(decode_float(rows.cell(0, column(rows, "f"))), 3.25F);
  EXPECT_EQ(decode_int(rows.cell(0, column(rows, "i"))), std::numeric_limits<std::int32_t>::min());
  EXPECT_EQ(decode_timestamp(rows.cell(0, column(rows, "ts"))).time_since_epoch(), 1577934245123ms);
  EXPECT_EQ(to_string(decode_uuid(rows.cell(0, column(rows, "u")))),
            "550e8400-e29b-41d4-a716-446655440000");  // the literal was upper case
  EXPECT_EQ(to_string(decode_timeuuid(rows.cell(0, column(rows, "tu")))),
            "50554d6e-29bb-11e5-b345-feff819cdc9f");
  EXPECT_EQ(decode_text(rows.cell(0, column(rows, "t"))), "h\xC3\xA9llo 'quoted'");
  EXPECT_TRUE(rows.cell(0, column(rows, "vc")).is_empty());  // '' is empty, not null
  EXPECT_EQ(to_string(decode_inet(rows.cell(0, column(rows, "ip")))), "127.0.0.1");
  // Columns the INSERT did not name are null.
  EXPECT_TRUE(rows.cell(0, column(rows, "l")).is_null());
  EXPECT_TRUE(rows.cell(0, column(rows, "nested")).is_null());
}

TEST_F(CqlInsertLiterals, NumbersInEveryForm) {
  run("INSERT INTO ks.all_types (id, b, d, f, i) VALUES (1, 9223372036854775807, 1e3, -1.5E-3, 0)");
  run("INSERT INTO ks.all_types (id, d, f) VALUES (2, NaN, -Infinity)");
  run("INSERT INTO ks.all_types (id, d, f) VALUES (3, Infinity, nan)");
  run("INSERT INTO ks.all_types (id, d, f) VALUES (4, 7, 1e38)");  // integers fit a double too

  rows_result one = row(1);
  ASSERT_EQ(one.row_count(), 1U);
  EXPECT_EQ(decode_bigint(one.cell(0, column(one, "b"))), std::numeric_limits<std::int64_t>::max());
  EXPECT_EQ(decode_double(one.cell(0, column(one, "d"))), 1000.0);
  EXPECT_EQ(decode_float(one.cell(0, column(one, "f"))), -1.5e-3F);
  EXPECT_EQ(decode_int(one.cell(0, column(one, "i"))), 0);

  rows_result two = row(2);
  ASSERT_EQ(two.row_count(), 1U);
  EXPECT_TRUE(std::isnan(decode_double(two.cell(0, column(two, "d")))));
  EXPECT_EQ(decode_float(two.cell(0, column(two, "f"))), -std::numeric_limits<float>::infinity());

  rows_result three = row(3);
  ASSERT_EQ(three.row_count(), 1U);
  EXPECT_EQ(decode_double(three.cell(0, column(three, "d"))),
            std::numeric_limits<double>::infinity());
  EXPECT_TRUE(std::isnan(decode_float(three.cell(0, column(three, "f")))));

  rows_result four = row(4);
  ASSERT_EQ(four.row_count(), 1U);
  EXPECT_EQ(decode_double(four.cell(0, column(four, "d"))), 7.0);
  EXPECT_EQ(decode_float(four.cell(0, column(four, "f"))), 1e38F);
}

TEST_F(CqlInsertLiterals, TimestampsAsNumbersAndIsoText) {
  using std::chrono::sys_days;
  const auto jan2 = sys_days{std::chrono::year{2020} / 1 / 2};
  const std::vector<std::pair<std::string, std::chrono::milliseconds>> cases = {
      {"1234567890123", 1234567890123ms},
      {"-1000", -1000ms},
      {"'2020-01-02 03:04:05.123+0100'", (jan2 + 2h + 4min + 5s + 123ms).time_since_epoch()},
      {"'2020-01-02T03:04:05Z'", (jan2 + 3h + 4min + 5s).time_since_epoch()},
      {"'2020-01-02 03:04:05.1-02:30'", (jan2 + 5h + 34min + 5s + 100ms).time_since_epoch()},
      {"'2020-01-02 03:04'", (jan2 + 3h + 4min).time_since_epoch()},
      {"'2020-01-02'", jan2.time_since_epoch()},
      {"'1969-12-31 23:59:59.999Z'", -1ms},
  };
  for (std::size_t i = 0; i < cases.size(); ++i) {
    run("INSERT INTO ks.all_types (id, ts) VALUES (" + std::to_string(i) + ", " + cases[i].first +
        ")");
  }
  const rows_result rows = select("SELECT id, ts FROM ks.all_types");
  ASSERT_EQ(rows.row_count(), cases.size());
  for (std::size_t r = 0; r < rows.row_count(); ++r) {
    const auto id = static_cast<std::size_t>(decode_int(rows.cell(r, 0)));
    ASSERT_LT(id, cases.size());
    SCOPED_TRACE(cases[id].first);
    EXPECT_EQ(decode_timestamp(rows.cell(r, 1)).time_since_epoch(), cases[id].second);
  }
  for (const char* bad : {"'2020-13-01'", "'2020-01-02 25:00'", "'2020-02-30'", "'20-01-02'",
                          "'2020-01-02 03:04:05.1234'", "1.5", "'yesterday'"}) {
    SCOPED_TRACE(bad);
    const error_response e =
        refused(std::string("INSERT INTO ks.all_types (id, ts) VALUES (99, ") + bad + ")");
    EXPECT_EQ(e.code, error_code::invalid);
    EXPECT_TRUE(contains(e.message, "\"ts\"")) << e.message;
  }
}

TEST_F(CqlInsertLiterals, InetAddressesV4AndV6) {
  run("INSERT INTO ks.all_types (id, ip) VALUES (1, '::1')");
  run("INSERT INTO ks.all_types (id, ip) VALUES (2, '2001:db8::8:800:200c:417a')");
  run("INSERT INTO ks.all_types (id, ip) VALUES (3, '10.0.0.255')");
  const rows_result rows = select("SELECT ip FROM ks.all_types");
  ASSERT_EQ(rows.row_count(), 3U);
  const inet_address loopback6 = decode_inet(rows.cell(0, 0));
  EXPECT_EQ(loopback6.size, 16U);
  EXPECT_EQ(to_string(loopback6), "::1");
  EXPECT_EQ(to_string(decode_inet(rows.cell(1, 0))), "2001:db8::8:800:200c:417a");
  const inet_address v4 = decode_inet(rows.cell(2, 0));
  EXPECT_EQ(v4.size, 4U);
  EXPECT_EQ(to_string(v4), "10.0.0.255");
}

TEST_F(CqlInsertLiterals, CollectionsNestedCollectionsAndTheirOrder) {
  run("INSERT INTO ks.all_types (id, l, s, m, fl, nested) VALUES (1, [3, 1, 3], "
      "{'b', 'a', 'b'}, {'z': 1, 'a': 2, 'z': 3}, [], "
      "{'k': [{2, 1}, {}], 'e': []})");
  const rows_result rows = row(1);
  ASSERT_EQ(rows.row_count(), 1U);
  EXPECT_EQ(cell_value(rows, 0, "l"), (value{value::list{3, 1, 3}}));  // a list keeps all, in order
  EXPECT_EQ(cell_value(rows, 0, "s"), (value{value::list{"a", "b"}}));  // a set: sorted, unique
  // A map: sorted by key, and a repeated key keeps its last value.
  EXPECT_EQ(cell_value(rows, 0, "m"),
            (value{value::map{{value{"a"}, value{2}}, {value{"z"}, value{3}}}}));
  EXPECT_EQ(cell_value(rows, 0, "fl"), (value{value::list{}}));
  const value expected_nested{
      value::map{{value{"e"}, value{value::list{}}},
                 {value{"k"}, value{value::list{value{value::list{1, 2}}, value{value::list{}}}}}}};
  EXPECT_EQ(cell_value(rows, 0, "nested"), expected_nested);
}

TEST_F(CqlInsertLiterals, NullStoresNull) {
  run("INSERT INTO ks.all_types (id, t, i, l) VALUES (1, 'x', 5, [1])");
  run("INSERT INTO ks.all_types (id, t, i, l) VALUES (1, null, NULL, null)");
  const rows_result rows = row(1);
  ASSERT_EQ(rows.row_count(), 1U);
  EXPECT_TRUE(rows.cell(0, column(rows, "t")).is_null());
  EXPECT_TRUE(rows.cell(0, column(rows, "i")).is_null());
  EXPECT_TRUE(rows.cell(0, column(rows, "l")).is_null());
}

TEST_F(CqlInsertLiterals, AnInsertUpdatesOnlyTheColumnsItNames) {
  run("INSERT INTO ks.all_types (id, t, i) VALUES (1, 'first', 10)");
  run("INSERT INTO ks.all_types (id, i, b) VALUES (1, 20, 30)");
  run("INSERT INTO ks.all_types (id, t) VALUES (2, 'other row')");
  const rows_result rows = select("SELECT id, t, i, b FROM ks.all_types");
  ASSERT_EQ(rows.row_count(), 2U);  // the second INSERT of id 1 updated that row
  EXPECT_EQ(decode_int(rows.cell(0, 0)), 1);
  EXPECT_EQ(decode_text(rows.cell(0, 1)), "first");  // not named: unchanged
  EXPECT_EQ(decode_int(rows.cell(0, 2)), 20);        // named: replaced
  EXPECT_EQ(decode_bigint(rows.cell(0, 3)), 30);     // named: set
  EXPECT_EQ(decode_text(rows.cell(1, 1)), "other row");
  EXPECT_TRUE(rows.cell(1, 2).is_null());
}

TEST_F(CqlInsertLiterals, ALiteralOfTheWrongTypeIsInvalidAndNamesTheColumn) {
  struct bad_literal {
    const char* column;
    const char* literal;
  };
  const std::vector<bad_literal> cases = {
      {"i", "'abc'"},
      {"i", "1.5"},
      {"i", "2147483648"},
      {"i", "1e3"},
      {"b", "9223372036854775808"},
      {"t", "42"},
      {"a", "'\xC3\xA9t\xC3\xA9'"},  // not ASCII
      {"bo", "1"},
      {"bo", "'true'"},
      {"d", "true"},
      {"f", "1e39"},
      {"bl", "'cafe'"},
      {"bl", "0xCAF"},
      {"u", "'550e8400-e29b-41d4-a716-446655440000'"},
      {"u", "0x550e8400e29b41d4a716446655440000"},
      {"tu", "550e8400-e29b-41d4-a716-446655440000"},  // version 4, not a timeuuid
      {"ip", "'300.1.2.3'"},
      {"ip", "127"},
      {"ts", "'yesterday'"},
      {"l", "{1, 2}"},
      {"l", "[1, 'x']"},
      {"s", "{'a': 1}"},
      {"s", "['a']"},
      {"m", "['a']"},
      {"m", "{'a', 'b'}"},
      {"m", "{'a': 'b'}"},
      {"fl", "7"},
  };
  for (const bad_literal& bad : cases) {
    const std::string statement = std::string("INSERT INTO ks.all_types (id, ") + bad.column +
                                  ") VALUES (1, " + bad.literal + ")";
    SCOPED_TRACE(statement);
    const error_response e = refused(statement);
    EXPECT_EQ(e.code, error_code::invalid);
    const bool names_column = contains(e.message, "\"" + std::string(bad.column) + "\"") ||
                              contains(e.message, "column " + std::string(bad.column));
    EXPECT_TRUE(names_column) << e.message;
  }
  EXPECT_EQ(select("SELECT * FROM ks.all_types").row_count(), 0U);  // nothing was stored
}

TEST_F(CqlInsertLiterals, AnInsertWithoutThePartitionKeyIsInvalid) {
  const error_response e = refused("INSERT INTO ks.all_types (t, i) VALUES ('x', 1)");
  EXPECT_EQ(e.code, error_code::invalid);
  EXPECT_EQ(e.message, "Some partition key parts are missing: id");
  EXPECT_EQ(select("SELECT * FROM ks.all_types").row_count(), 0U);
}

TEST_F(CqlInsertLiterals, ANullPartitionKeyIsInvalid) {
  const error_response e = refused("INSERT INTO ks.all_types (id, t) VALUES (null, 'x')");
  EXPECT_EQ(e.code, error_code::invalid);
  EXPECT_EQ(e.message, "Invalid null value in condition for column id");
  EXPECT_EQ(select("SELECT * FROM ks.all_types").row_count(), 0U);
}

TEST_F(CqlInsertLiterals, ColumnsAndValuesMustMatch) {
  const error_response count = refused("INSERT INTO ks.all_types (id, t) VALUES (1)");
  EXPECT_EQ(count.code, error_code::invalid);
  EXPECT_EQ(count.message, "Unmatched column names/values");
  const error_response twice = refused("INSERT INTO ks.all_types (id, t, t) VALUES (1, 'a', 'b')");
  EXPECT_EQ(twice.code, error_code::invalid);
  EXPECT_EQ(twice.message, "Multiple definitions found for column t");
  const error_response unknown = refused("INSERT INTO ks.all_types (id, nope) VALUES (1, 2)");
  EXPECT_EQ(unknown.code, error_code::invalid);
  EXPECT_EQ(unknown.message, "Undefined column name nope");
  EXPECT_EQ(select("SELECT * FROM ks.all_types").row_count(), 0U);
}

TEST_F(CqlStatements, SyntheticTablesAreReadOnly) {
  const error_response e = refused("INSERT INTO demo.rows (id, name) VALUES (1, 'x')");
  EXPECT_EQ(e.code, error_code::invalid);
  EXPECT_TRUE(contains(e.message, "demo.rows is a synthetic table")) << e.message;
  EXPECT_TRUE(contains(e.message, "read-only")) << e.message;
  const rows_result rows = select("SELECT name FROM demo.rows WHERE id = 1");
  ASSERT_EQ(rows.row_count(), 1U);
  EXPECT_EQ(decode_text(rows.cell(0, 0)), "row-1");
}

// ---- Bind markers, PREPARE and EXECUTE ------------------------------------------------------

TEST_F(CqlStatements, BindMarkersInAQueryTakeTheBoundValues) {
  create_kv();
  const response insert =
      c().query("INSERT INTO ks.kv (id, v, n) VALUES (?, ?, ?)",
                with_values({query_value::of(std::int32_t{7}), query_value::of("seven"),
                             query_value::of(std::int64_t{-70})}));
  EXPECT_TRUE(is_void(insert)) << describe(insert);
  const rows_result rows =
      select("SELECT n, v FROM ks.kv WHERE id = ?", with_values({query_value::of(7)}));
  ASSERT_EQ(rows.row_count(), 1U);
  EXPECT_EQ(decode_bigint(rows.cell(0, 0)), -70);
  EXPECT_EQ(decode_text(rows.cell(0, 1)), "seven");
  EXPECT_EQ(
      select("SELECT * FROM ks.kv WHERE id = ?", with_values({query_value::of(8)})).row_count(),
      0U);
}

TEST_F(CqlStatements, BoundCollectionsAndNullAreStored) {
  create_keyspace("ks");
  run("CREATE TABLE ks.c (id int PRIMARY KEY, l list<int>, m map<text, bigint>, t text)");
  const data_type list_type = data_type::list(type_id::int_);
  const data_type map_type = data_type::map(type_id::varchar, type_id::bigint);
  const value list_value = value::list{5, 6};
  const value map_value = value::map{{value{"a"}, value{std::int64_t{1}}}};
  run("INSERT INTO ks.c (id, l, m, t) VALUES (?, ?, ?, ?)",
      with_values({query_value::of(1), bound(list_type, list_value), bound(map_type, map_value),
                   query_value::null()}));
  const rows_result rows = select("SELECT l, m, t FROM ks.c");
  ASSERT_EQ(rows.row_count(), 1U);
  EXPECT_EQ(cell_value(rows, 0, "l"), list_value);
  EXPECT_EQ(cell_value(rows, 0, "m"), map_value);
  EXPECT_TRUE(rows.cell(0, 2).is_null());
}

TEST_F(CqlStatements, BoundSetsAndMapsAreStoredAsLiteralsAre) {
  create_keyspace("ks");
  run("CREATE TABLE ks.c (id int PRIMARY KEY, s set<text>, m map<int, text>, "
      "n list<frozen<set<int>>>)");
  const data_type set_type = data_type::set(type_id::varchar);
  const data_type map_type = data_type::map(type_id::int_, type_id::varchar);
  const data_type nested_type = data_type::list(data_type::set(type_id::int_));
  run("INSERT INTO ks.c (id, s, m, n) VALUES (1, ?, ?, ?)",
      with_values({bound(set_type, value::list{"b", "a", "b"}),
                   bound(map_type, value::map{{value{2}, value{"two"}},
                                              {value{1}, value{"one"}},
                                              {value{2}, value{"deux"}}}),
                   bound(nested_type, value::list{value{value::list{3, 1, 3}}})}));
  run("INSERT INTO ks.c (id, s, m, n) VALUES (2, {'b', 'a', 'b'}, {2: 'two', 1: 'one', "
      "2: 'deux'}, [{3, 1, 3}])");
  const rows_result rows = select("SELECT s, m, n FROM ks.c");
  ASSERT_EQ(rows.row_count(), 2U);
  for (std::size_t r = 0; r < 2; ++r) {
    SCOPED_TRACE(r == 0 ? "bound" : "literal");
    EXPECT_EQ(cell_value(rows, r, "s"), (value{value::list{"a", "b"}}));  // sorted, unique
    EXPECT_EQ(cell_value(rows, r, "m"),
              (value{value::map{{value{1}, value{"one"}}, {value{2}, value{"deux"}}}}));
    EXPECT_EQ(cell_value(rows, r, "n"), (value{value::list{value{value::list{1, 3}}}}));
  }
}

TEST_F(CqlStatements, AFrozenSetKeyIsTheSameKeyInAnyOrder) {
  create_keyspace("ks");
  run("CREATE TABLE ks.f (k frozen<set<int>> PRIMARY KEY, v text)");
  const data_type key_type = data_type::set(type_id::int_);
  run("INSERT INTO ks.f (k, v) VALUES (?, 'bound')",
      with_values({bound(key_type, value::list{2, 1})}));
  run("INSERT INTO ks.f (k, v) VALUES ({1, 2}, 'literal')");  // the same key: an update
  const rows_result rows = select("SELECT v FROM ks.f");
  ASSERT_EQ(rows.row_count(), 1U);
  EXPECT_EQ(decode_text(rows.cell(0, 0)), "literal");
  const rows_result by_bound_key = select("SELECT v FROM ks.f WHERE k = ?",
                                          with_values({bound(key_type, value::list{2, 1, 2})}));
  EXPECT_EQ(by_bound_key.row_count(), 1U);
}

TEST_F(CqlStatements, NullIsNotSupportedInsideCollections) {
  create_keyspace("ks");
  run("CREATE TABLE ks.c (id int PRIMARY KEY, s set<text>, m map<text, int>, l list<int>)");
  for (const char* statement : {"INSERT INTO ks.c (id, s) VALUES (1, {null})",
                                "INSERT INTO ks.c (id, s) VALUES (1, {'a', null})",
                                "INSERT INTO ks.c (id, m) VALUES (1, {null: 1})",
                                "INSERT INTO ks.c (id, m) VALUES (1, {'a': null})",
                                "INSERT INTO ks.c (id, l) VALUES (1, [1, null])"}) {
    SCOPED_TRACE(statement);
    const error_response e = refused(statement);
    EXPECT_EQ(e.code, error_code::invalid);  // not 0x0000: the client's mistake
    EXPECT_EQ(e.message, "null is not supported inside collections");
  }
  const value list_with_null = value::list{value{1}, value{}};
  const error_response bound_list =
      refused("INSERT INTO ks.c (id, l) VALUES (1, ?)",
              with_values({bound(data_type::list(type_id::int_), list_with_null)}));
  EXPECT_EQ(bound_list.code, error_code::invalid);
  EXPECT_EQ(bound_list.message, "null is not supported inside collections");
  EXPECT_EQ(select("SELECT * FROM ks.c").row_count(), 0U);
}

TEST_F(CqlStatements, CollectionElementsOfTheWrongContentAreInvalid) {
  create_keyspace("ks");
  run("CREATE TABLE ks.c (id int PRIMARY KEY, s set<ascii>, m map<timeuuid, int>)");
  for (const char* statement :
       {"INSERT INTO ks.c (id, s) VALUES (1, {'\xC3\xA9'})",
        "INSERT INTO ks.c (id, m) VALUES (1, {550e8400-e29b-41d4-a716-446655440000: 1})"}) {
    SCOPED_TRACE(statement);
    const error_response e = refused(statement);
    EXPECT_EQ(e.code, error_code::invalid);  // not a server error
    EXPECT_TRUE(contains(e.message, "Invalid value for column ")) << e.message;
  }
}

TEST_F(CqlStatements, PrepareDescribesTheBindMarkersOfAnInsert) {
  create_kv();
  const auto p =
      message_of<prepared_result>(c().prepare("INSERT INTO ks.kv (v, id, n) VALUES (?, ?, ?)"));
  EXPECT_FALSE(p.id.empty());
  const table_spec kv{"ks", "kv"};
  EXPECT_EQ(p.variables.global_table, kv);
  EXPECT_EQ(p.variables.partition_key_indexes, std::vector<std::uint16_t>{1});  // id is marker 1
  const std::vector<column_spec> markers = {
      {kv, "v", type_id::varchar}, {kv, "id", type_id::int_}, {kv, "n", type_id::bigint}};
  EXPECT_EQ(p.variables.columns, markers);
  EXPECT_TRUE(p.result.no_metadata);  // an INSERT returns no rows
  EXPECT_EQ(p.result.column_count, 0);
  EXPECT_TRUE(p.result.columns.empty());
}

TEST_F(CqlStatements, PrepareDescribesTheMarkersAndTheResultColumnsOfASelect) {
  create_kv();
  const auto p =
      message_of<prepared_result>(c().prepare("SELECT n, v FROM ks.kv WHERE id = ? LIMIT ?"));
  const table_spec kv{"ks", "kv"};
  EXPECT_EQ(p.variables.global_table, kv);
  EXPECT_EQ(p.variables.partition_key_indexes, std::vector<std::uint16_t>{0});
  const std::vector<column_spec> markers = {{kv, "id", type_id::int_},
                                            {kv, "[limit]", type_id::int_}};
  EXPECT_EQ(p.variables.columns, markers);
  EXPECT_FALSE(p.result.no_metadata);
  EXPECT_EQ(p.result.global_table, kv);
  EXPECT_EQ(p.result.column_count, 2);
  const std::vector<column_spec> columns = {{kv, "n", type_id::bigint},
                                            {kv, "v", type_id::varchar}};
  EXPECT_EQ(p.result.columns, columns);

  const auto all = message_of<prepared_result>(c().prepare("SELECT * FROM ks.kv"));
  EXPECT_TRUE(all.variables.columns.empty());
  EXPECT_FALSE(all.variables.global_table.has_value());  // no markers, no table spec
  EXPECT_TRUE(all.variables.partition_key_indexes.empty());
  EXPECT_EQ(all.result.column_count, 3);
  EXPECT_NE(all.id, p.id);
}

TEST_F(CqlStatements, PreparingTheSameTextTwiceGivesTheSameId) {
  create_kv();
  const std::vector<std::byte> first = prepared_id("SELECT * FROM ks.kv WHERE id = ?");
  EXPECT_EQ(prepared_id("SELECT * FROM ks.kv WHERE id = ?"), first);
  client other{port()};
  other.start();
  EXPECT_EQ(message_of<prepared_result>(other.prepare("SELECT * FROM ks.kv WHERE id = ?")).id,
            first);
}

TEST_F(CqlStatements, PrepareRefusesWhatItCannotRun) {
  create_kv();
  const error_response table = error_of(c().prepare("SELECT * FROM ks.nope WHERE id = ?"));
  EXPECT_EQ(table.code, error_code::invalid);
  EXPECT_EQ(table.message, "unconfigured table nope");
  const error_response syntax = error_of(c().prepare("SELEC * FROM ks.kv"));
  EXPECT_EQ(syntax.code, error_code::syntax_error);
  const error_response column = error_of(c().prepare("SELECT nope FROM ks.kv"));
  EXPECT_EQ(column.message, "Undefined column name nope");
  const error_response nested = error_of(c().prepare("INSERT INTO ks.kv (id, v) VALUES (1, [?])"));
  EXPECT_EQ(nested.code, error_code::invalid);
}

TEST_F(CqlStatements, ExecuteRunsThePreparedStatement) {
  create_kv();
  const auto insert = prepared_id("INSERT INTO ks.kv (id, v, n) VALUES (?, ?, ?)");
  const auto select_one = prepared_id("SELECT v, n FROM ks.kv WHERE id = ?");
  for (std::int32_t id = 0; id < 3; ++id) {
    const response r = c().execute(
        insert, with_values({query_value::of(id), query_value::of("v" + std::to_string(id)),
                             query_value::of(std::int64_t{id} * 100)}));
    EXPECT_TRUE(is_void(r)) << describe(r);
  }
  const rows_result rows = rows_of(c().execute(select_one, with_values({query_value::of(2)})));
  ASSERT_EQ(rows.row_count(), 1U);
  EXPECT_EQ(rows.metadata().global_table, (table_spec{"ks", "kv"}));
  EXPECT_EQ(decode_text(rows.cell(0, 0)), "v2");
  EXPECT_EQ(decode_bigint(rows.cell(0, 1)), 200);
}

TEST_F(CqlStatements, APreparedStatementRunsInTheKeyspaceItWasPreparedIn) {
  create_kv();
  run("INSERT INTO ks.kv (id, v) VALUES (1, 'one')");
  EXPECT_EQ(message_of<set_keyspace_result>(c().query("USE ks")).keyspace, "ks");
  const auto id = prepared_id("SELECT v FROM kv WHERE id = 1");
  client other{port()};  // no USE on this connection
  other.start();
  const rows_result rows = rows_of(other.execute(id));
  ASSERT_EQ(rows.row_count(), 1U);
  EXPECT_EQ(decode_text(rows.cell(0, 0)), "one");
}

TEST_F(CqlStatements, ExecuteWithSkipMetadataGivesRowsWithoutMetadata) {
  create_kv();
  run("INSERT INTO ks.kv (id, v, n) VALUES (4, 'four', 44)");
  const auto id = prepared_id("SELECT id, v, n FROM ks.kv");
  query_parameters p;
  p.skip_metadata = true;
  const rows_result rows = rows_of(c().execute(id, p));
  EXPECT_TRUE(rows.metadata().no_metadata);
  EXPECT_TRUE(rows.metadata().columns.empty());
  EXPECT_FALSE(rows.metadata().global_table.has_value());
  ASSERT_EQ(rows.column_count(), 3U);  // the count is still there
  ASSERT_EQ(rows.row_count(), 1U);
  EXPECT_EQ(decode_int(rows.cell(0, 0)), 4);
  EXPECT_EQ(decode_text(rows.cell(0, 1)), "four");
  EXPECT_EQ(decode_bigint(rows.cell(0, 2)), 44);

  const rows_result with_metadata = rows_of(c().execute(id));
  EXPECT_FALSE(with_metadata.metadata().no_metadata);
  EXPECT_EQ(with_metadata.metadata().columns.size(), 3U);
}

TEST_F(CqlStatements, ExecuteWithAnUnknownIdIsUnpreparedWithTheId) {
  const bytes id = {std::byte{0xDE}, std::byte{0xAD}, std::byte{0xBE}, std::byte{0xEF}};
  const error_response e = error_of(c().execute(id));
  EXPECT_EQ(e.code, error_code::unprepared);
  EXPECT_TRUE(contains(e.message, "0xdeadbeef")) << e.message;
  EXPECT_EQ(e.details, error_details{unprepared_error{id}});  // drivers re-prepare with this id
}

TEST_F(CqlStatements, AWrongNumberOfBoundValuesIsInvalid) {
  create_kv();
  const error_response none = refused("SELECT * FROM ks.kv WHERE id = ?");
  EXPECT_EQ(none.code, error_code::invalid);
  EXPECT_EQ(none.message, "There were 1 markers(?) in CQL but 0 bound variables");

  const error_response extra = refused("SELECT * FROM ks.kv", with_values({query_value::of(1)}));
  EXPECT_EQ(extra.message, "There were 0 markers(?) in CQL but 1 bound variables");

  const auto id = prepared_id("INSERT INTO ks.kv (id, v) VALUES (?, ?)");
  const error_response short_of_one = error_of(c().execute(id, with_values({query_value::of(1)})));
  EXPECT_EQ(short_of_one.code, error_code::invalid);
  EXPECT_EQ(short_of_one.message, "There were 2 markers(?) in CQL but 1 bound variables");
  EXPECT_EQ(select("SELECT * FROM ks.kv").row_count(), 0U);
}

TEST_F(CqlStatements, ValuesBoundByNameAreRefused) {
  create_kv();
  query_parameters p = with_values({query_value::of(1)});
  p.names = {"id"};
  const error_response e = refused("SELECT * FROM ks.kv WHERE id = ?", p);
  EXPECT_EQ(e.code, error_code::invalid);
  EXPECT_TRUE(contains(e.message, "bind them by position")) << e.message;
}

TEST_F(CqlStatements, BoundBytesOfTheWrongSizeAreInvalid) {
  create_kv();
  const auto insert = prepared_id("INSERT INTO ks.kv (id, v, n) VALUES (?, ?, ?)");
  const query_value three_bytes{bytes(3, std::byte{1})};
  const query_value four_bytes{bytes(4, std::byte{1})};
  const query_value bad_utf8{bytes{std::byte{0xFF}}};
  struct bad_value {
    const char* column;
    std::vector<query_value> values;
  };
  const std::vector<bad_value> cases = {
      {"id", {three_bytes, query_value::of("x"), query_value::of(std::int64_t{1})}},
      {"n", {query_value::of(1), query_value::of("x"), four_bytes}},
      {"v", {query_value::of(1), bad_utf8, query_value::of(std::int64_t{1})}},
  };
  for (const bad_value& bad : cases) {
    SCOPED_TRACE(bad.column);
    const error_response e = error_of(c().execute(insert, with_values(bad.values)));
    EXPECT_EQ(e.code, error_code::invalid);
    EXPECT_TRUE(contains(e.message, std::string("column ") + bad.column)) << e.message;
  }
  EXPECT_EQ(select("SELECT * FROM ks.kv").row_count(), 0U);  // nothing was stored

  const error_response key =
      refused("SELECT * FROM ks.kv WHERE id = ?", with_values({query_value::of(std::int64_t{1})}));
  EXPECT_EQ(key.code, error_code::invalid);  // 8 bytes for an int
  EXPECT_TRUE(contains(key.message, "column id")) << key.message;
}

TEST_F(CqlStatements, ANotSetValueLeavesTheColumnUnchanged) {
  create_kv();
  run("INSERT INTO ks.kv (id, v, n) VALUES (1, 'kept', 10)");
  const auto insert = prepared_id("INSERT INTO ks.kv (id, v, n) VALUES (?, ?, ?)");
  const response r = c().execute(insert, with_values({query_value::of(1), query_value::not_set(),
                                                      query_value::of(std::int64_t{20})}));
  EXPECT_TRUE(is_void(r)) << describe(r);
  const rows_result rows = select("SELECT v, n FROM ks.kv WHERE id = 1");
  ASSERT_EQ(rows.row_count(), 1U);
  EXPECT_EQ(decode_text(rows.cell(0, 0)), "kept");  // not set: unchanged
  EXPECT_EQ(decode_bigint(rows.cell(0, 1)), 20);

  run("INSERT INTO ks.kv (id, v, n) VALUES (1, ?, ?)",
      with_values({query_value::null(), query_value::not_set()}));
  const rows_result after_null = select("SELECT v, n FROM ks.kv WHERE id = 1");
  ASSERT_EQ(after_null.row_count(), 1U);
  EXPECT_TRUE(after_null.cell(0, 0).is_null());         // null: cleared
  EXPECT_EQ(decode_bigint(after_null.cell(0, 1)), 20);  // not set: unchanged

  const error_response key = error_of(c().execute(
      insert, with_values({query_value::not_set(), query_value::of("x"), query_value::null()})));
  EXPECT_EQ(key.code, error_code::invalid);
  EXPECT_EQ(key.message, "Invalid unset value for column id");
}

TEST_F(CqlStatements, LimitTakesALiteralOrABindMarker) {
  create_paged_table(5);
  // Rows come in token order: the first rows by token.
  EXPECT_EQ(ints_of(select("SELECT id FROM ks.p LIMIT 2"), "id"), first_by_token(iota_ints(0, 5), 2));
  EXPECT_EQ(ints_of(select("SELECT id FROM ks.p LIMIT ?", with_values({query_value::of(3)})), "id"),
            first_by_token(iota_ints(0, 5), 3));
  EXPECT_EQ(ints_of(select("SELECT id FROM ks.p LIMIT 100"), "id"), token_ordered(iota_ints(0, 5)));
  const auto id = prepared_id("SELECT id FROM ks.p LIMIT ?");
  EXPECT_EQ(ints_of(rows_of(c().execute(id, with_values({query_value::of(4)}))), "id"),
            first_by_token(iota_ints(0, 5), 4));
}

TEST_F(CqlStatements, LimitMustBeStrictlyPositive) {
  create_paged_table(5);
  for (const char* limit : {"0", "-1", "-2147483648"}) {
    SCOPED_TRACE(limit);
    const error_response literal = refused(std::string("SELECT id FROM ks.p LIMIT ") + limit);
    EXPECT_EQ(literal.code, error_code::invalid);
    EXPECT_EQ(literal.message, "LIMIT must be strictly positive");
  }
  for (const std::int32_t limit : {0, -1}) {
    SCOPED_TRACE(limit);
    const error_response bound_limit =
        refused("SELECT id FROM ks.p LIMIT ?", with_values({query_value::of(limit)}));
    EXPECT_EQ(bound_limit.message, "LIMIT must be strictly positive");
  }
  const error_response null_limit =
      refused("SELECT id FROM ks.p LIMIT ?", with_values({query_value::null()}));
  EXPECT_EQ(null_limit.message, "Invalid null or unset value for limit");
}

// ---- SELECT ---------------------------------------------------------------------------------

TEST_F(CqlStatements, SelectStarGivesEveryColumnInDefinitionOrder) {
  create_kv();
  run("INSERT INTO ks.kv (n, id, v) VALUES (30, 3, 'three')");
  const rows_result rows = select("SELECT * FROM ks.kv");
  ASSERT_EQ(rows.column_count(), 3U);
  EXPECT_EQ(rows.metadata().columns[0].name, "id");
  EXPECT_EQ(rows.metadata().columns[1].name, "v");
  EXPECT_EQ(rows.metadata().columns[2].name, "n");
  ASSERT_EQ(rows.row_count(), 1U);
  EXPECT_EQ(decode_int(rows.cell(0, 0)), 3);
  EXPECT_EQ(decode_text(rows.cell(0, 1)), "three");
  EXPECT_EQ(decode_bigint(rows.cell(0, 2)), 30);
}

TEST_F(CqlStatements, SelectColumnsGivesThoseColumnsInThatOrder) {
  create_kv();
  run("INSERT INTO ks.kv (id, v, n) VALUES (3, 'three', 30)");
  const rows_result rows = select("SELECT n, id, n FROM ks.kv");
  ASSERT_EQ(rows.column_count(), 3U);
  const table_spec kv{"ks", "kv"};
  const std::vector<column_spec> expected = {
      {kv, "n", type_id::bigint}, {kv, "id", type_id::int_}, {kv, "n", type_id::bigint}};
  EXPECT_EQ(rows.metadata().columns, expected);
  ASSERT_EQ(rows.row_count(), 1U);
  EXPECT_EQ(decode_bigint(rows.cell(0, 0)), 30);
  EXPECT_EQ(decode_int(rows.cell(0, 1)), 3);
  EXPECT_EQ(decode_bigint(rows.cell(0, 2)), 30);
}

TEST_F(CqlStatements, WhereOnThePartitionKeyPicksOneRow) {
  create_paged_table(10);
  EXPECT_EQ(ints_of(select("SELECT id, v FROM ks.p WHERE id = 4"), "id"), std::vector{4});
  EXPECT_EQ(
      ints_of(select("SELECT id FROM ks.p WHERE id = ?", with_values({query_value::of(6)})), "id"),
      std::vector{6});
  EXPECT_EQ(select("SELECT id FROM ks.p WHERE id = 10").row_count(), 0U);
  EXPECT_EQ(select("SELECT id FROM ks.p WHERE id = 4 AND id = 4").row_count(), 1U);
  const error_response twice = refused("SELECT id FROM ks.p WHERE id = 4 AND id = 5");
  EXPECT_EQ(twice.code, error_code::invalid);
  const error_response null_key =
      refused("SELECT id FROM ks.p WHERE id = ?", with_values({query_value::null()}));
  EXPECT_EQ(null_key.message, "Invalid null value in condition for column id");
}

TEST_F(CqlStatements, FilteringOnARegularColumnNeedsAllowFiltering) {
  create_kv();
  for (int i = 0; i < 6; ++i) {
    run("INSERT INTO ks.kv (id, v, n) VALUES (" + std::to_string(i) + ", '" +
        (i % 2 == 0 ? "even" : "odd") + "', " + std::to_string(i * 10) + ")");
  }
  const error_response e = refused("SELECT id FROM ks.kv WHERE v = 'even'");
  EXPECT_EQ(e.code, error_code::invalid);
  EXPECT_TRUE(contains(e.message, "use ALLOW FILTERING")) << e.message;

  EXPECT_EQ(ints_of(select("SELECT id FROM ks.kv WHERE v = 'even' ALLOW FILTERING"), "id"),
            token_ordered({0, 2, 4}));
  EXPECT_EQ(
      ints_of(select("SELECT id FROM ks.kv WHERE v = 'odd' AND n = 30 ALLOW FILTERING"), "id"),
      std::vector{3});
  EXPECT_EQ(
      ints_of(select("SELECT id FROM ks.kv WHERE id = 2 AND v = 'odd' ALLOW FILTERING"), "id"),
      std::vector<std::int32_t>{});
  EXPECT_EQ(ints_of(select("SELECT id FROM ks.kv WHERE v = ? LIMIT 2 ALLOW FILTERING",
                           with_values({query_value::of("odd")})),
                    "id"),
            first_by_token({1, 3, 5}, 2));
}

TEST_F(CqlStatements, FilteringSkipsNullCells) {
  create_kv();
  run("INSERT INTO ks.kv (id, v) VALUES (1, 'x')");
  run("INSERT INTO ks.kv (id) VALUES (2)");
  EXPECT_EQ(ints_of(select("SELECT id FROM ks.kv WHERE v = 'x' ALLOW FILTERING"), "id"),
            std::vector{1});
  EXPECT_EQ(select("SELECT id FROM ks.kv WHERE v = '' ALLOW FILTERING").row_count(), 0U);
}

TEST_F(CqlStatements, AnUnknownColumnIsInvalid) {
  create_kv();
  for (const char* statement : {"SELECT nope FROM ks.kv", "SELECT id, nope FROM ks.kv",
                                "SELECT * FROM ks.kv WHERE nope = 1 ALLOW FILTERING"}) {
    SCOPED_TRACE(statement);
    const error_response e = refused(statement);
    EXPECT_EQ(e.code, error_code::invalid);
    EXPECT_EQ(e.message, "Undefined column name nope");
  }
}

TEST_F(CqlStatements, AnUnknownTableOrKeyspaceIsInvalid) {
  create_kv();
  const error_response table = refused("SELECT * FROM ks.t");
  EXPECT_EQ(table.code, error_code::invalid);
  EXPECT_EQ(table.message, "unconfigured table t");
  const error_response keyspace = refused("SELECT * FROM nope.t");
  EXPECT_EQ(keyspace.code, error_code::invalid);
  EXPECT_EQ(keyspace.message, "Keyspace nope does not exist");
  const error_response system = refused("SELECT * FROM system_schema.nope");
  EXPECT_EQ(system.message, "unconfigured table nope");
}

TEST_F(CqlStatements, UnqualifiedNamesNeedAKeyspaceInUse) {
  create_kv();
  run("INSERT INTO ks.kv (id, v) VALUES (1, 'one')");
  const error_response e = refused("SELECT * FROM kv");
  EXPECT_EQ(e.code, error_code::invalid);
  EXPECT_EQ(e.message,
            "No keyspace has been specified. USE a keyspace, or explicitly specify "
            "keyspace.tablename");
  EXPECT_EQ(refused("INSERT INTO kv (id) VALUES (2)").message, e.message);
  EXPECT_EQ(refused("CREATE TABLE t (id int PRIMARY KEY)").message, e.message);
}

TEST_F(CqlStatements, UseSetsTheKeyspaceOfUnqualifiedNamesOnThisConnection) {
  create_kv();
  const response use = c().query("USE ks");
  EXPECT_EQ(message_of<set_keyspace_result>(use).keyspace, "ks");
  run("INSERT INTO kv (id, v) VALUES (1, 'one')");
  run("CREATE TABLE other (id int PRIMARY KEY)");
  const rows_result rows = select("SELECT v FROM kv WHERE id = 1");
  ASSERT_EQ(rows.row_count(), 1U);
  EXPECT_EQ(decode_text(rows.cell(0, 0)), "one");
  EXPECT_EQ(rows.metadata().global_table, (table_spec{"ks", "kv"}));
  EXPECT_EQ(select("SELECT * FROM ks.other").row_count(), 0U);                // created in ks
  EXPECT_EQ(select("SELECT * FROM demo.rows WHERE id = 3").row_count(), 1U);  // qualified wins

  client other{port()};
  other.start();
  EXPECT_EQ(error_of(other.query("SELECT * FROM kv")).code, error_code::invalid);  // no USE there
}

TEST_F(CqlStatements, UseOfAnUnknownKeyspaceIsInvalidAndKeepsTheCurrentOne) {
  create_kv();
  run("USE ks");
  const error_response e = refused("USE nope");
  EXPECT_EQ(e.code, error_code::invalid);
  EXPECT_EQ(e.message, "Keyspace 'nope' does not exist");
  EXPECT_EQ(select("SELECT * FROM kv").row_count(), 0U);  // still in ks
  EXPECT_EQ(message_of<set_keyspace_result>(c().query("USE system")).keyspace, "system");
  EXPECT_EQ(select("SELECT * FROM local").row_count(), 1U);
}

// ---- Paging ---------------------------------------------------------------------------------

TEST_F(CqlStatements, PagingAStoredTableGivesEveryRowOnceInOrder) {
  constexpr int rows = 10;
  create_paged_table(rows);
  for (const std::int32_t page_size : {1, 3, 4, 5, 9, 10, 11, 100}) {
    SCOPED_TRACE(page_size);
    const std::vector<rows_result> pages = fetch_pages(c(), "SELECT id, v FROM ks.p", page_size);
    // ceil(rows / page_size) pages: the server looks one row ahead, so a table whose rows fill
    // the last page exactly ends there, without an empty page after it.
    const auto expected_pages = static_cast<std::size_t>((rows + page_size - 1) / page_size);
    ASSERT_EQ(pages.size(), expected_pages);
    for (std::size_t i = 0; i + 1 < pages.size(); ++i) {
      EXPECT_EQ(pages[i].row_count(), static_cast<std::size_t>(page_size)) << "page " << i;
    }
    EXPECT_EQ(ids_of(pages), token_ordered(iota_ints(0, rows)));
    for (const rows_result& page : pages) {
      ASSERT_EQ(page.column_count(), 2U);  // every page has the metadata
      for (std::size_t r = 0; r < page.row_count(); ++r) {
        std::string expected = "v";  // appended, not "v" + ...: GCC 12 -Wrestrict at -O3
        expected += std::to_string(decode_int(page.cell(r, 0)));
        EXPECT_EQ(decode_text(page.cell(r, 1)), expected);
      }
    }
  }
}

TEST_F(CqlStatements, PagingKeysOfEveryLengthGivesEveryRowOnce) {
  // The server writes a page's rows straight after a guessed paging state the size of the key
  // it started after; keys that grow and shrink from page to page make it rewrite that prefix
  // both ways (and every page's metadata must still decode).
  create_keyspace("ks");
  run("CREATE TABLE ks.words (k text PRIMARY KEY, n int)");
  std::vector<std::string> keys;
  for (const int length : {1, 12, 3, 40, 2, 7, 300, 5, 1, 64, 9}) {
    std::string key(static_cast<std::size_t>(length), static_cast<char>('a' + keys.size()));
    std::string insert = "INSERT INTO ks.words (k, n) VALUES ('";  // appended: GCC 12 -Wrestrict
    insert.append(key).append("', ").append(std::to_string(length)).append(")");
    run(insert);
    keys.push_back(std::move(key));
  }
  // Rows come in token order.
  std::sort(keys.begin(), keys.end(), [](const std::string& a, const std::string& b) {
    return murmur3_token(std::as_bytes(std::span(a))) < murmur3_token(std::as_bytes(std::span(b)));
  });
  for (const std::int32_t page_size : {1, 2, 3, 11, 12}) {
    SCOPED_TRACE(page_size);
    const std::vector<rows_result> pages = fetch_pages(c(), "SELECT k, n FROM ks.words", page_size);
    std::vector<std::string> seen;
    for (const rows_result& page : pages) {
      ASSERT_EQ(page.column_count(), 2U);
      for (std::size_t r = 0; r < page.row_count(); ++r) {
        seen.emplace_back(decode_text(page.cell(r, 0)));
        EXPECT_EQ(decode_int(page.cell(r, 1)), static_cast<std::int32_t>(seen.back().size()));
      }
    }
    EXPECT_EQ(seen, keys);
    EXPECT_EQ(pages.size(), (keys.size() + static_cast<std::size_t>(page_size) - 1) /
                                static_cast<std::size_t>(page_size));
  }
}

TEST_F(CqlStatements, PagingAnEmptyTableGivesOneEmptyPage) {
  create_kv();
  const std::vector<rows_result> pages = fetch_pages(c(), "SELECT * FROM ks.kv", 5);
  ASSERT_EQ(pages.size(), 1U);
  EXPECT_EQ(pages[0].row_count(), 0U);
  EXPECT_EQ(pages[0].column_count(), 3U);
}

TEST_F(CqlStatements, PagingThroughExecute) {
  create_paged_table(7);
  const auto id = prepared_id("SELECT id FROM ks.p");
  const std::vector<rows_result> pages =
      fetch_pages([&](const query_parameters& p) { return c().execute(id, p); }, 3);
  EXPECT_EQ(row_counts_of(pages), (std::vector<std::size_t>{3, 3, 1}));
  EXPECT_EQ(ids_of(pages), token_ordered(iota_ints(0, 7)));
}

TEST_F(CqlStatements, PagingWithFilteringGivesTheMatchingRowsOnce) {
  create_paged_table(20);
  for (int i = 0; i < 20; i += 3) {
    run("INSERT INTO ks.p (id, v) VALUES (" + std::to_string(i) + ", 'match')");
  }
  const std::vector<rows_result> pages =
      fetch_pages(c(), "SELECT id FROM ks.p WHERE v = 'match' ALLOW FILTERING", 2);
  EXPECT_EQ(row_counts_of(pages),
            (std::vector<std::size_t>{2, 2, 2, 1}));  // 0 3 6 9 12 15 18 by token
  EXPECT_EQ(ids_of(pages), token_ordered({0, 3, 6, 9, 12, 15, 18}));
}

TEST_F(CqlStatements, PagingWithALimitStopsAtTheLimit) {
  create_paged_table(10);
  struct paged_limit {
    std::int32_t limit;
    std::int32_t page_size;
    std::vector<std::size_t> sizes;
  };
  for (const paged_limit& p : std::vector<paged_limit>{{5, 2, {2, 2, 1}},
                                                       {4, 2, {2, 2}},
                                                       {3, 5, {3}},
                                                       {7, 3, {3, 3, 1}},
                                                       {10, 4, {4, 4, 2}},
                                                       {20, 4, {4, 4, 2}}}) {
    SCOPED_TRACE("LIMIT " + std::to_string(p.limit) + ", pages of " + std::to_string(p.page_size));
    const std::vector<rows_result> pages = fetch_pages(
        c(), "SELECT id FROM ks.p LIMIT " + std::to_string(p.limit), p.page_size, {}, 20);
    EXPECT_EQ(row_counts_of(pages), p.sizes);
    EXPECT_EQ(ids_of(pages), first_by_token(iota_ints(0, 10), static_cast<std::size_t>(p.limit)));
  }
}

TEST_F(CqlStatements, PagingASyntheticTableWithALimit) {
  const std::vector<rows_result> pages =
      fetch_pages(c(), "SELECT id FROM demo.rows LIMIT 25", 10, {}, 20);
  EXPECT_EQ(row_counts_of(pages), (std::vector<std::size_t>{10, 10, 5}));
}

TEST_F(CqlStatements, PagingASyntheticTableGivesEveryRowOnceInOrder) {
  for (const std::int32_t page_size : {2500, 3000}) {
    SCOPED_TRACE(page_size);
    const std::vector<rows_result> pages = fetch_pages(c(), "SELECT id FROM demo.rows", page_size);
    ASSERT_EQ(pages.size(), static_cast<std::size_t>((demo_rows + page_size - 1) / page_size));
    std::int64_t expected = 0;
    for (const rows_result& page : pages) {
      for (std::size_t r = 0; r < page.row_count(); ++r) {
        ASSERT_EQ(decode_bigint(page.cell(r, 0)), expected);
        ++expected;
      }
    }
    EXPECT_EQ(expected, demo_rows);
    EXPECT_EQ(pages.front().row_count(), static_cast<std::size_t>(page_size));
  }
}

TEST_F(CqlStatements, APagingStateTheServerDidNotWriteIsAProtocolError) {
  create_paged_table(10);
  query_parameters first;
  first.page_size = 3;
  const rows_result page0 = rows_of(c().query("SELECT id FROM ks.p", first));
  ASSERT_TRUE(page0.metadata().has_more_pages());
  const bytes genuine = *page0.metadata().paging_state;

  bytes altered = genuine;
  altered[0] ^= std::byte{0xFF};
  const bytes truncated(genuine.begin(), genuine.begin() + 4);
  for (const bytes& state : {bytes{std::byte{1}, std::byte{2}, std::byte{3}}, altered, truncated}) {
    query_parameters p;
    p.page_size = 3;
    p.paging_state = state;
    const error_response e = refused("SELECT id FROM ks.p", p);
    EXPECT_EQ(e.code, error_code::protocol_error);
    EXPECT_TRUE(contains(e.message, "paging state")) << e.message;
  }
  query_parameters resume;
  resume.page_size = 3;
  resume.paging_state = genuine;
  const std::vector<std::int32_t> order = token_ordered(iota_ints(0, 10));
  EXPECT_EQ(ints_of(select("SELECT id FROM ks.p", resume), "id"),
            std::vector(order.begin() + 3, order.begin() + 6));
}

TEST_F(CqlStatements, APagingStateWithTheLargestIdGivesNoMoreRows) {
  // A paging state comes from the client. This one is genuine but for its key, the last 8
  // bytes of a synthetic table's state (the id of the last row served), set to the largest
  // bigint: the server must end the result there, not wrap around to the smallest id.
  query_parameters p;
  p.page_size = 3;
  const rows_result page0 = rows_of(c().query("SELECT id FROM demo.rows", p));
  ASSERT_TRUE(page0.metadata().has_more_pages());
  bytes state = *page0.metadata().paging_state;
  ASSERT_GE(state.size(), 8U);
  EXPECT_EQ(bytes(state.end() - 8, state.end()),
            (bytes{std::byte{0}, std::byte{0}, std::byte{0}, std::byte{0}, std::byte{0},
                   std::byte{0}, std::byte{0}, std::byte{2}}));  // id 2, as this test assumes
  std::fill(state.end() - 8, state.end(), std::byte{0xFF});
  *(state.end() - 8) = std::byte{0x7F};
  p.paging_state = state;
  const rows_result rest = rows_of(c().query("SELECT id FROM demo.rows", p));
  EXPECT_EQ(rest.row_count(), 0U);
  EXPECT_FALSE(rest.metadata().has_more_pages());
}

TEST_F(CqlStatements, PagingOverSystemSchemaTables) {
  create_keyspace("ks");
  run("CREATE TABLE ks.a (id int PRIMARY KEY, x int, y text, z blob)");
  run("CREATE TABLE ks.b (id text PRIMARY KEY, w list<int>)");
  const std::string statement =
      "SELECT table_name, column_name FROM system_schema.columns WHERE keyspace_name = 'ks'";
  const rows_result all = select(statement);
  ASSERT_EQ(all.row_count(), 6U);
  const std::vector<rows_result> pages = fetch_pages(c(), statement, 4);
  EXPECT_EQ(row_counts_of(pages), (std::vector<std::size_t>{4, 2}));
  std::vector<std::pair<std::string, std::string>> paged;
  for (const rows_result& page : pages) {
    for (std::size_t r = 0; r < page.row_count(); ++r) {
      paged.emplace_back(decode_text(page.cell(r, 0)), decode_text(page.cell(r, 1)));
    }
  }
  std::vector<std::pair<std::string, std::string>> unpaged;
  for (std::size_t r = 0; r < all.row_count(); ++r) {
    unpaged.emplace_back(decode_text(all.cell(r, 0)), decode_text(all.cell(r, 1)));
  }
  EXPECT_EQ(paged, unpaged);

  const std::vector<rows_result> keyspaces =
      fetch_pages(c(), "SELECT keyspace_name FROM system_schema.keyspaces", 1);
  EXPECT_EQ(row_counts_of(keyspaces), (std::vector<std::size_t>{1, 1}));  // demo and ks
}

// ---- Synthetic tables -----------------------------------------------------------------------

TEST_F(CqlStatements, SyntheticRowsAreComputedFromTheirId) {
  const rows_result rows = select("SELECT * FROM demo.rows");
  ASSERT_EQ(rows.row_count(), static_cast<std::size_t>(demo_rows));
  const table_spec demo{"demo", "rows"};
  const std::vector<column_spec> columns = {{demo, "id", type_id::bigint},
                                            {demo, "name", type_id::varchar},
                                            {demo, "payload", type_id::blob}};
  ASSERT_EQ(rows.metadata().columns, columns);
  std::size_t wrong = 0;
  for (std::size_t r = 0; r < rows.row_count(); ++r) {
    const auto id = static_cast<std::int64_t>(r);
    const bool right = decode_bigint(rows.cell(r, 0)) == id &&
                       decode_text(rows.cell(r, 1)) == "row-" + std::to_string(id) &&
                       blob_of(decode_blob(rows.cell(r, 2))) == expected_payload(id);
    if (!right && wrong++ < 3) {
      ADD_FAILURE() << "row " << r << " is not synthetic row " << id;
    }
  }
  EXPECT_EQ(wrong, 0U);
}

TEST_F(CqlStatements, SyntheticColumnsComeInTheOrderSelected) {
  const rows_result rows = select("SELECT payload, name, id FROM demo.rows LIMIT 3");
  ASSERT_EQ(rows.row_count(), 3U);
  for (std::size_t r = 0; r < rows.row_count(); ++r) {
    const auto id = static_cast<std::int64_t>(r);
    EXPECT_EQ(blob_of(decode_blob(rows.cell(r, 0))), expected_payload(id));
    EXPECT_EQ(decode_text(rows.cell(r, 1)), "row-" + std::to_string(id));
    EXPECT_EQ(decode_bigint(rows.cell(r, 2)), id);
  }
}

TEST_F(CqlStatements, SyntheticWhereIdPicksThatRow) {
  const rows_result rows = select("SELECT id, name, payload FROM demo.rows WHERE id = 42");
  ASSERT_EQ(rows.row_count(), 1U);
  EXPECT_EQ(decode_bigint(rows.cell(0, 0)), 42);
  EXPECT_EQ(decode_text(rows.cell(0, 1)), "row-42");
  const bytes payload = blob_of(decode_blob(rows.cell(0, 2)));
  ASSERT_EQ(payload.size(), 100U);
  EXPECT_EQ(payload[0], std::byte{42 * 31 % 256});
  EXPECT_EQ(payload[99], std::byte{(42 * 31 + 99) % 256});

  const rows_result bound_id = select("SELECT name FROM demo.rows WHERE id = ?",
                                      with_values({query_value::of(std::int64_t{9999})}));
  ASSERT_EQ(bound_id.row_count(), 1U);
  EXPECT_EQ(decode_text(bound_id.cell(0, 0)), "row-9999");

  for (const char* out_of_range : {"10000", "-1", "9223372036854775807"}) {
    SCOPED_TRACE(out_of_range);
    EXPECT_EQ(select(std::string("SELECT * FROM demo.rows WHERE id = ") + out_of_range).row_count(),
              0U);
  }
  const rows_result by_name =
      select("SELECT id FROM demo.rows WHERE name = 'row-77' ALLOW FILTERING");
  ASSERT_EQ(by_name.row_count(), 1U);
  EXPECT_EQ(decode_bigint(by_name.cell(0, 0)), 77);
  EXPECT_EQ(refused("SELECT id FROM demo.rows WHERE name = 'row-77'").code, error_code::invalid);
}

TEST_F(CqlStatements, AddSyntheticTableReplacesATableAndRefusesBadArguments) {
  srv_.add_synthetic_table("demo", "rows", 3);  // while serving
  EXPECT_EQ(select("SELECT id FROM demo.rows").row_count(), 3U);
  srv_.add_synthetic_table("demo", "none", 0);
  EXPECT_EQ(select("SELECT id FROM demo.none").row_count(), 0U);
  EXPECT_THROW(srv_.add_synthetic_table("demo", "bad", -1), std::invalid_argument);
  EXPECT_THROW(srv_.add_synthetic_table("", "bad", 1), std::invalid_argument);
  EXPECT_THROW(srv_.add_synthetic_table("demo", "", 1), std::invalid_argument);
  EXPECT_THROW(srv_.add_synthetic_table("system", "bad", 1), std::invalid_argument);
  EXPECT_THROW(srv_.add_synthetic_table("system_schema", "bad", 1), std::invalid_argument);
  EXPECT_EQ(refused("SELECT * FROM demo.bad").message, "unconfigured table bad");
}

// ---- system_schema and DROP -----------------------------------------------------------------

TEST_F(CqlStatements, SchemaTablesDescribeCreatedTables) {
  create_keyspace("ks");
  run("CREATE TABLE ks.t (v frozen<list<int>>, id text PRIMARY KEY, m map<text, int>, "
      "s set<varchar>, n list<frozen<map<int, text>>>, b blob)");
  const rows_result tables = select(
      "SELECT keyspace_name, table_name, id, flags FROM system_schema.tables WHERE "
      "keyspace_name = 'ks' AND table_name = 't'");
  ASSERT_EQ(tables.row_count(), 1U);
  EXPECT_EQ(decode_text(tables.cell(0, 0)), "ks");
  EXPECT_EQ(decode_text(tables.cell(0, 1)), "t");
  EXPECT_EQ(decode_uuid(tables.cell(0, 2)).version(), 4);
  EXPECT_EQ(cell_value(tables, 0, "flags"), (value{value::list{"compound"}}));

  const rows_result columns = select(
      "SELECT column_name, kind, position, type, clustering_order, column_name_bytes FROM "
      "system_schema.columns WHERE keyspace_name = 'ks' AND table_name = 't'");
  using described = std::tuple<std::string, std::int32_t, std::string>;
  std::map<std::string, described> found;
  for (std::size_t r = 0; r < columns.row_count(); ++r) {
    const std::string name(decode_text(columns.cell(r, 0)));
    found[name] = {std::string(decode_text(columns.cell(r, 1))), decode_int(columns.cell(r, 2)),
                   std::string(decode_text(columns.cell(r, 3)))};
    EXPECT_EQ(decode_text(columns.cell(r, 4)), "none");
    const auto name_bytes = decode_blob(columns.cell(r, 5));
    EXPECT_EQ(std::string(reinterpret_cast<const char*>(name_bytes.data()),  // NOLINT
                          name_bytes.size()),
              name);
  }
  const std::map<std::string, described> expected = {
      {"id", {"partition_key", 0, "text"}},
      {"v", {"regular", -1, "frozen<list<int>>"}},
      {"m", {"regular", -1, "map<text, int>"}},
      {"s", {"regular", -1, "set<text>"}},
      {"n", {"regular", -1, "list<frozen<map<int, text>>>"}},
      {"b", {"regular", -1, "blob"}},
  };
  EXPECT_EQ(found, expected);
  EXPECT_EQ(columns.row_count(), expected.size());
}

TEST_F(CqlStatements, SchemaTablesDescribeSyntheticTables) {
  const rows_result columns = select(
      "SELECT column_name, kind, type FROM system_schema.columns WHERE keyspace_name = "
      "'demo' AND table_name = 'rows'");
  ASSERT_EQ(columns.row_count(), 3U);
  EXPECT_EQ(decode_text(columns.cell(0, 0)), "id");
  EXPECT_EQ(decode_text(columns.cell(0, 1)), "partition_key");
  EXPECT_EQ(decode_text(columns.cell(0, 2)), "bigint");
  EXPECT_EQ(decode_text(columns.cell(2, 2)), "blob");
}

TEST_F(CqlStatements, DropTableAnswersSchemaChangeAndForgetsTheTable) {
  create_kv();
  run("CREATE TABLE ks.kept (id int PRIMARY KEY)");
  run("INSERT INTO ks.kv (id, v) VALUES (1, 'one')");
  const response r = c().query("DROP TABLE ks.kv");
  EXPECT_EQ(message_of<schema_change_result>(r), schema_change("DROPPED", "TABLE", "ks", "kv"));
  EXPECT_EQ(refused("SELECT * FROM ks.kv").message, "unconfigured table kv");
  EXPECT_EQ(select("SELECT * FROM system_schema.tables WHERE keyspace_name = 'ks' AND "
                   "table_name = 'kv'")
                .row_count(),
            0U);
  EXPECT_EQ(select("SELECT * FROM system_schema.columns WHERE keyspace_name = 'ks' AND "
                   "table_name = 'kv'")
                .row_count(),
            0U);
  EXPECT_EQ(select("SELECT * FROM system_schema.tables WHERE keyspace_name = 'ks'").row_count(),
            1U);  // ks.kept

  run("CREATE TABLE ks.kv (id int PRIMARY KEY, w int)");  // a new table: no old rows
  const rows_result rows = select("SELECT * FROM ks.kv");
  EXPECT_EQ(rows.row_count(), 0U);
  EXPECT_EQ(rows.column_count(), 2U);
}

TEST_F(CqlStatements, DropKeyspaceAnswersSchemaChangeAndForgetsItsTables) {
  create_kv();
  run("USE ks");
  const response r = c().query("DROP KEYSPACE ks");
  EXPECT_EQ(message_of<schema_change_result>(r), schema_change("DROPPED", "KEYSPACE", "ks"));
  EXPECT_EQ(refused("SELECT * FROM ks.kv").message, "Keyspace ks does not exist");
  EXPECT_EQ(refused("SELECT * FROM kv").message, "Keyspace ks does not exist");
  EXPECT_EQ(select("SELECT * FROM system_schema.keyspaces WHERE keyspace_name = 'ks'").row_count(),
            0U);
  EXPECT_EQ(select("SELECT * FROM system_schema.tables WHERE keyspace_name = 'ks'").row_count(),
            0U);
  EXPECT_EQ(select("SELECT * FROM system_schema.columns WHERE keyspace_name = 'ks'").row_count(),
            0U);
  create_keyspace("ks");  // the name is free again, and empty
  EXPECT_EQ(refused("SELECT * FROM ks.kv").message, "unconfigured table kv");
}

TEST_F(CqlStatements, DroppingWhatDoesNotExist) {
  create_keyspace("ks");
  const error_response table = refused("DROP TABLE ks.nope");
  EXPECT_EQ(table.code, error_code::config_error);
  EXPECT_EQ(table.message, "Cannot drop non existing table 'nope' in keyspace 'ks'.");
  const error_response no_keyspace = refused("DROP TABLE nope.t");
  EXPECT_EQ(no_keyspace.code, error_code::config_error);
  EXPECT_EQ(no_keyspace.message, "Cannot drop non existing table 't' in keyspace 'nope'.");
  const error_response keyspace = refused("DROP KEYSPACE nope");
  EXPECT_EQ(keyspace.code, error_code::config_error);
  EXPECT_EQ(keyspace.message, "Cannot drop non existing keyspace 'nope'.");

  for (const char* statement : {"DROP TABLE IF EXISTS ks.nope", "DROP TABLE IF EXISTS nope.t",
                                "DROP KEYSPACE IF EXISTS nope"}) {
    SCOPED_TRACE(statement);
    const response r = c().query(statement);
    EXPECT_TRUE(is_void(r)) << describe(r);
  }
  const response existing = c().query("DROP KEYSPACE IF EXISTS ks");
  EXPECT_EQ(message_of<schema_change_result>(existing), schema_change("DROPPED", "KEYSPACE", "ks"));
}

// ---- Concurrency ----------------------------------------------------------------------------

TEST_F(CqlStatements, ConcurrentInsertsFromSeveralConnectionsAreAllStored) {
  create_keyspace("ks");
  run("CREATE TABLE ks.c (id int PRIMARY KEY, writer int)");
  constexpr int writers = 4;
  constexpr int per_writer = 40;
  const std::uint16_t p = port();
  std::atomic<int> refused_inserts{0};
  std::atomic<int> shrinking_reads{0};
  std::vector<std::thread> threads;
  threads.reserve(writers + 2);
  for (int w = 0; w < writers; ++w) {
    threads.emplace_back([&, w] {
      client writer{p};
      writer.start();
      for (int i = 0; i < per_writer; ++i) {
        const int id = w * per_writer + i;
        const response r = writer.query("INSERT INTO ks.c (id, writer) VALUES (?, ?)",
                                        with_values({query_value::of(id), query_value::of(w)}));
        if (!is_void(r)) {
          ++refused_inserts;
        }
      }
    });
  }
  // A reader and a schema writer at the same time: rows only ever get added.
  threads.emplace_back([&] {
    client reader{p};
    reader.start();
    std::size_t seen = 0;
    for (int i = 0; i < 20; ++i) {
      const rows_result rows = rows_of(reader.query("SELECT id FROM ks.c"));
      if (rows.row_count() < seen) {
        ++shrinking_reads;
      }
      seen = rows.row_count();
    }
  });
  threads.emplace_back([&] {
    client schema{p};
    schema.start();
    for (int i = 0; i < 5; ++i) {
      const response r =
          schema.query("CREATE TABLE ks.side" + std::to_string(i) + " (id int PRIMARY KEY)");
      EXPECT_TRUE(std::holds_alternative<schema_change_result>(r.message)) << describe(r);
    }
  });
  for (std::thread& t : threads) {
    t.join();
  }
  EXPECT_EQ(refused_inserts.load(), 0);
  EXPECT_EQ(shrinking_reads.load(), 0);
  const rows_result rows = select("SELECT id, writer FROM ks.c");
  ASSERT_EQ(rows.row_count(), static_cast<std::size_t>(writers * per_writer));
  std::vector<std::pair<std::int32_t, std::int32_t>> ids_and_writers;  // by token: sort by id
  for (std::size_t r = 0; r < rows.row_count(); ++r) {
    ids_and_writers.emplace_back(decode_int(rows.cell(r, 0)), decode_int(rows.cell(r, 1)));
  }
  std::sort(ids_and_writers.begin(), ids_and_writers.end());
  for (std::size_t r = 0; r < ids_and_writers.size(); ++r) {
    ASSERT_EQ(ids_and_writers[r].first, static_cast<std::int32_t>(r));  // each id once
    EXPECT_EQ(ids_and_writers[r].second, static_cast<std::int32_t>(r) / per_writer);
  }
  EXPECT_EQ(select("SELECT * FROM system_schema.tables WHERE keyspace_name = 'ks'").row_count(),
            6U);
}

// ---- Results larger than a frame ------------------------------------------------------------

TEST(CqlServerFrameLimit, AResultLargerThanAFrameNeedsPaging) {
  server_options options;
  options.max_frame_body = 4096;
  server srv{options};
  srv.add_synthetic_table("demo", "rows", 100);  // about 130 bytes a row
  srv.start();
  client c{srv.port()};
  c.start();

  const error_response e = error_of(c.query("SELECT * FROM demo.rows"));
  EXPECT_EQ(e.code, error_code::invalid);
  EXPECT_TRUE(contains(e.message, "ask for it in pages (set a page size)")) << e.message;
  EXPECT_TRUE(contains(e.message, "4096")) << e.message;

  const std::vector<rows_result> pages = fetch_pages(c, "SELECT * FROM demo.rows", 20);
  EXPECT_EQ(row_counts_of(pages), (std::vector<std::size_t>(5, 20)));
  std::int64_t expected = 0;
  for (const rows_result& page : pages) {
    for (std::size_t r = 0; r < page.row_count(); ++r) {
      EXPECT_EQ(decode_bigint(page.cell(r, 0)), expected);
      EXPECT_EQ(blob_of(decode_blob(page.cell(r, 2))), expected_payload(expected));
      ++expected;
    }
  }
  EXPECT_EQ(expected, 100);

  // A page that does not fit is refused the same way.
  query_parameters big_pages;
  big_pages.page_size = 50;
  EXPECT_EQ(error_of(c.query("SELECT * FROM demo.rows", big_pages)).code, error_code::invalid);
  EXPECT_EQ(rows_of(c.query("SELECT id FROM demo.rows")).row_count(), 100U);  // 12 bytes a row
}

}  // namespace
}  // namespace scopekit::cql::test
