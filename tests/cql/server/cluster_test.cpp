// Tests for scopekit/cql/server/cluster.hpp: nodes on consecutive loopback addresses with one
// port, the topology each reports (system.local, system.peers), one copy of the data served by
// every node, nodes stopped and restarted one by one, and per-node faults and statistics.
#include "scopekit/cql/server/cluster.hpp"

#include "support/cql/test_client.hpp"

#include "scopekit/cql/protocol/error.hpp"
#include "scopekit/cql/protocol/response.hpp"
#include "scopekit/cql/protocol/value.hpp"

#include <gtest/gtest.h>

#include <algorithm>
#include <cerrno>
#include <cstddef>
#include <cstdint>
#include <limits>
#include <set>
#include <stdexcept>
#include <string>
#include <system_error>
#include <type_traits>
#include <vector>

namespace scopekit::cql::test {
namespace {

static_assert(!std::is_copy_constructible_v<cluster>);
static_assert(!std::is_move_constructible_v<cluster>);

// The index of column `name` in `rows`' metadata (column_count() if there is none).
std::size_t column(const rows_result& rows, std::string_view name) {
  const auto& columns = rows.metadata().columns;
  const auto it = std::find_if(columns.begin(), columns.end(),
                               [&](const column_spec& c) { return c.name == name; });
  return static_cast<std::size_t>(it - columns.begin());
}

// A set<text> cell of tokens, as numbers.
std::vector<std::int64_t> tokens_of(const rows_result& rows, std::size_t row) {
  const value v = decode_value(data_type::set(type_id::varchar),
                               rows.cell(row, column(rows, "tokens")));
  std::vector<std::int64_t> out;
  for (const value& item : v.get<value::list>()) {
    out.push_back(std::stoll(item.get<std::string>()));
  }
  std::sort(out.begin(), out.end());
  return out;
}

std::string inet_cell(const rows_result& rows, std::size_t row, std::string_view name) {
  return to_string(decode_inet(rows.cell(row, column(rows, name))));
}

class CqlCluster : public ::testing::Test {
protected:
  CqlCluster() : cluster_(options()) { cluster_.start(); }

  static cluster_options options() {
    cluster_options o;
    o.nodes = 3;
    o.num_tokens = 4;
    o.token_seed = 7;
    return o;
  }

  std::uint16_t port() const { return cluster_.port(); }

  cluster cluster_;
};

TEST_F(CqlCluster, NodesListenOnConsecutiveLoopbackAddressesWithOnePort) {
  ASSERT_EQ(cluster_.size(), 3U);
  EXPECT_NE(port(), 0);
  for (std::size_t n = 0; n < cluster_.size(); ++n) {
    SCOPED_TRACE(n);
    const std::string address = "127.0.0." + std::to_string(n + 1);
    EXPECT_EQ(cluster_.address(n), address);
    EXPECT_TRUE(cluster_.is_up(n));
    client c{port(), address.c_str()};
    c.start();
    const rows_result local = rows_of(c.query("SELECT * FROM system.local"));
    ASSERT_EQ(local.row_count(), 1U);
    EXPECT_EQ(inet_cell(local, 0, "rpc_address"), address);
    EXPECT_EQ(inet_cell(local, 0, "broadcast_address"), address);
    EXPECT_EQ(tokens_of(local, 0), cluster_.tokens(n));
  }
}

TEST_F(CqlCluster, EachNodeListsEveryOtherInPeersWithOneSchemaVersion) {
  std::set<std::string> host_ids;
  for (std::size_t n = 0; n < cluster_.size(); ++n) {
    SCOPED_TRACE(n);
    client c{port(), cluster_.address(n).c_str()};
    c.start();
    const rows_result local = rows_of(c.query("SELECT host_id, schema_version FROM system.local"));
    const rows_result peers = rows_of(c.query("SELECT * FROM system.peers"));
    host_ids.insert(to_string(decode_uuid(local.cell(0, 0))));
    const std::string schema = to_string(decode_uuid(local.cell(0, 1)));
    ASSERT_EQ(peers.row_count(), 2U);
    std::set<std::string> seen;
    for (std::size_t row = 0; row < peers.row_count(); ++row) {
      const std::string peer = inet_cell(peers, row, "peer");
      EXPECT_EQ(inet_cell(peers, row, "rpc_address"), peer);
      EXPECT_NE(peer, cluster_.address(n));
      const auto other = static_cast<std::size_t>(std::stoi(peer.substr(peer.rfind('.') + 1)) - 1);
      EXPECT_EQ(tokens_of(peers, row), cluster_.tokens(other));
      EXPECT_EQ(to_string(decode_uuid(peers.cell(row, column(peers, "schema_version")))), schema);
      EXPECT_EQ(decode_text(peers.cell(row, column(peers, "data_center"))), "datacenter1");
      seen.insert(peer);
    }
    EXPECT_EQ(seen.size(), 2U);
  }
  EXPECT_EQ(host_ids.size(), 3U);
}

TEST(CqlClusterTokens, TheSeedDecidesTheTokensWhichAreDistinctAndNeverTheMinimum) {
  cluster_options o;
  o.nodes = 4;
  o.num_tokens = 32;
  o.token_seed = 42;
  const cluster a{o};
  const cluster b{o};
  o.token_seed = 43;
  const cluster c{o};
  std::set<std::int64_t> all;
  for (std::size_t n = 0; n < a.size(); ++n) {
    const std::vector<std::int64_t> tokens = a.tokens(n);
    EXPECT_EQ(tokens.size(), 32U);
    EXPECT_TRUE(std::is_sorted(tokens.begin(), tokens.end()));
    EXPECT_EQ(tokens, b.tokens(n));
    EXPECT_NE(tokens, c.tokens(n));
    all.insert(tokens.begin(), tokens.end());
  }
  EXPECT_EQ(all.size(), 4U * 32U);
  EXPECT_FALSE(all.contains(std::numeric_limits<std::int64_t>::min()));
}

TEST_F(CqlCluster, OneCopyOfTheDataIsServedByEveryNode) {
  client n0{port(), cluster_.address(0).c_str()};
  n0.start();
  (void)n0.query(
      "CREATE KEYSPACE ks WITH replication = {'class': 'SimpleStrategy', 'replication_factor': 3}");
  (void)n0.query("CREATE TABLE ks.t (id int PRIMARY KEY, v text)");
  client n1{port(), cluster_.address(1).c_str()};
  n1.start();
  (void)n1.query("INSERT INTO ks.t (id, v) VALUES (1, 'one')");
  client n2{port(), cluster_.address(2).c_str()};
  n2.start();
  const rows_result rows = rows_of(n2.query("SELECT v FROM ks.t WHERE id = 1"));
  ASSERT_EQ(rows.row_count(), 1U);
  EXPECT_EQ(decode_text(rows.cell(0, 0)), "one");
}

TEST_F(CqlCluster, StatisticsCountWhatEachNodeServed) {
  cluster_.add_synthetic_table("demo", "rows", 25);
  client c{port(), cluster_.address(2).c_str()};
  c.start();
  query_parameters paged;
  paged.page_size = 10;
  const response first = c.query("SELECT * FROM demo.rows", paged);
  paged.paging_state = rows_of(first).metadata().paging_state;
  (void)c.query("SELECT * FROM demo.rows", paged);
  const server_statistics on2 = cluster_.statistics(2);
  EXPECT_EQ(on2.statements, 2U);
  EXPECT_EQ(on2.pages, 2U);
  EXPECT_EQ(on2.rows, 20U);
  EXPECT_EQ(on2.requests, 3U);  // STARTUP too
  for (const std::size_t other : {0U, 1U}) {
    EXPECT_EQ(cluster_.statistics(other).requests, 0U);
  }
  // The same figures as a table, for clients outside the process; the query that reads them is
  // counted as a request and a statement already.
  const rows_result table = rows_of(c.query(
      "SELECT requests, statements, pages, rows FROM system_views.node_statistics"));
  ASSERT_EQ(table.row_count(), 1U);
  EXPECT_EQ(decode_bigint(table.cell(0, 0)), 4);
  EXPECT_EQ(decode_bigint(table.cell(0, 1)), 3);
  EXPECT_EQ(decode_bigint(table.cell(0, 2)), 2);
  EXPECT_EQ(decode_bigint(table.cell(0, 3)), 20);
}

TEST_F(CqlCluster, FaultsApplyToTheirNodeOnly) {
  fault f;
  f.what = fault::action::error;
  f.error = error_code::unavailable;
  f.message = "Cannot achieve consistency level ONE";
  cluster_.inject(1, f);
  client n1{port(), cluster_.address(1).c_str()};
  n1.start();
  EXPECT_EQ(error_of(n1.query("SELECT * FROM system.local")).code, error_code::unavailable);
  client n0{port(), cluster_.address(0).c_str()};
  n0.start();
  EXPECT_EQ(rows_of(n0.query("SELECT * FROM system.local")).row_count(), 1U);
  cluster_.clear_faults(1);
  EXPECT_EQ(rows_of(n1.query("SELECT * FROM system.local")).row_count(), 1U);
}

TEST_F(CqlCluster, AStoppedNodeRefusesConnectionsAndIsStillAPeer) {
  client open{port(), cluster_.address(1).c_str()};
  open.start();
  cluster_.stop_node(1);
  EXPECT_FALSE(cluster_.is_up(1));
  EXPECT_TRUE(open.closed_by_server());  // its connections are closed, mid-stream or not
  EXPECT_EQ(connect_to(port(), cluster_.address(1).c_str()), -1);
  EXPECT_EQ(errno, ECONNREFUSED);
  EXPECT_EQ(cluster_.connection_count(1), 0U);
  client n0{port(), cluster_.address(0).c_str()};
  n0.start();
  EXPECT_EQ(rows_of(n0.query("SELECT peer FROM system.peers")).row_count(), 2U);
  cluster_.stop_node(1);  // nothing: it is down
}

TEST_F(CqlCluster, ARestartedNodeKeepsItsCountersAndFaultsButNotItsPreparedStatements) {
  std::vector<std::byte> id;
  {
    client c{port(), cluster_.address(1).c_str()};
    c.start();
    const response r = c.prepare("SELECT key FROM system.local");
    const auto* prepared = std::get_if<prepared_result>(&r.message);
    ASSERT_NE(prepared, nullptr) << describe(r);
    id = prepared->id;
  }
  fault f;
  f.what = fault::action::error;
  f.statement_contains = "system.peers";
  f.error = error_code::overloaded;
  cluster_.inject(1, f);
  const std::uint64_t requests = cluster_.statistics(1).requests;
  cluster_.stop_node(1);
  cluster_.start_node(1);
  ASSERT_TRUE(cluster_.is_up(1));
  cluster_.start_node(1);  // nothing: it is up
  client c{port(), cluster_.address(1).c_str()};
  c.start();
  const std::int16_t stream = c.next_stream();
  EXPECT_EQ(error_of(c.round_trip(stream, execute(stream, id))).code, error_code::unprepared);
  EXPECT_EQ(error_of(c.query("SELECT * FROM system.peers")).code, error_code::overloaded);
  EXPECT_EQ(cluster_.statistics(1).requests, requests + 3);
}

TEST(CqlClusterLifetime, OptionsThatCannotMakeAClusterAreRefused) {
  cluster_options o;
  o.nodes = 0;
  EXPECT_THROW(cluster{o}, std::invalid_argument);
  o = {};
  o.num_tokens = 0;
  EXPECT_THROW(cluster{o}, std::invalid_argument);
  o = {};
  o.first_address = "::1";
  EXPECT_THROW(cluster{o}, std::invalid_argument);
  o = {};
  o.first_address = "127.255.255.254";
  EXPECT_THROW(cluster{o}, std::invalid_argument);  // the third node would leave 127/8
  o.nodes = 2;
  EXPECT_NO_THROW(cluster{o});
  const cluster one{};
  EXPECT_THROW((void)one.address(3), std::out_of_range);
  EXPECT_THROW((void)one.statistics(3), std::out_of_range);
}

TEST(CqlClusterLifetime, ABusyAddressLeavesNoNodeListening) {
  cluster_options first;
  first.nodes = 1;
  first.first_address = "127.0.0.3";
  cluster a{first};
  a.start();
  cluster_options clash;
  clash.nodes = 3;  // its third node is 127.0.0.3, on the port `a` holds
  clash.port = a.port();
  cluster b{clash};
  EXPECT_THROW(b.start(), std::system_error);
  for (std::size_t n = 0; n < b.size(); ++n) {
    EXPECT_FALSE(b.is_up(n));
  }
  EXPECT_EQ(b.port(), 0);
  cluster started{first};
  first.first_address = "127.0.0.4";
  EXPECT_THROW(a.start(), std::logic_error);
}

}  // namespace
}  // namespace scopekit::cql::test
