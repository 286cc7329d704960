// system_tables.cpp - system.local (a 3.11-shaped row), system.peers (the other nodes) and
// system_schema.* shaped as Cassandra 3.11 has them, describing the keyspaces and tables that
// exist. The drivers read them when they connect and after every schema change.
#include "system_tables.hpp"

#include <algorithm>
#include <array>
#include <cstdint>
#include <string>

namespace scopekit::cql::server_detail {
namespace {

// One schema version for every node: drivers wait for the nodes to agree on it after a schema
// change, and one copy of the schema always agrees.
constexpr std::array<std::uint8_t, 16> schema_version_bytes = {
    0x2f, 0x8e, 0x71, 0xc0, 0x93, 0x5a, 0x4b, 0x06, 0xa1, 0x3d, 0x6e, 0x58, 0x0c, 0x94, 0x27, 0xbb};

uuid uuid_of(const std::array<std::uint8_t, 16>& bytes) {
  uuid out;
  std::transform(bytes.begin(), bytes.end(), out.bytes.begin(),
                 [](std::uint8_t b) { return std::byte{b}; });
  return out;
}

column_definition col(std::string name, const char* type) {
  return {std::move(name), parse_column_type(type)};
}

value text_map(const std::vector<std::pair<std::string, std::string>>& entries) {
  value::map out;
  for (const auto& [k, v] : entries) {
    out.emplace_back(value{k}, value{v});
  }
  return out;
}

value text_list(const std::vector<std::string>& items) {
  value::list out;
  for (const auto& item : items) {
    out.emplace_back(item);
  }
  return out;
}

// A node's tokens as set<text>: their decimal strings, sorted as text (a set's order).
value token_set(const std::vector<std::int64_t>& tokens) {
  std::vector<std::string> text;
  text.reserve(tokens.size());
  for (const std::int64_t t : tokens) {
    text.push_back(std::to_string(t));
  }
  std::sort(text.begin(), text.end());
  return text_list(text);
}

virtual_table local_table(const node_view& node) {
  virtual_table t{"system", "local", {}, {}};
  t.columns = {col("key", "text"),
               col("bootstrapped", "text"),
               col("broadcast_address", "inet"),
               col("cluster_name", "text"),
               col("cql_version", "text"),
               col("data_center", "text"),
               col("host_id", "uuid"),
               col("listen_address", "inet"),
               col("native_protocol_version", "text"),
               col("partitioner", "text"),
               col("rack", "text"),
               col("release_version", "text"),
               col("rpc_address", "inet"),
               col("schema_version", "uuid"),
               col("tokens", "set<text>")};
  const node_identity& self = node.ring->nodes.at(node.node_index);
  const value address = node.local;
  t.rows.push_back({"local", "COMPLETED", address, node.ring->cluster_name, "3.4.4",
                    self.data_center, self.host_id, address, "4",
                    "org.apache.cassandra.dht.Murmur3Partitioner", self.rack, "3.11.16", address,
                    uuid_of(schema_version_bytes), token_set(self.tokens)});
  return t;
}

virtual_table peers_table(const node_view& node) {
  virtual_table t{"system", "peers", {}, {}};
  t.columns = {col("peer", "inet"),           col("data_center", "text"),
               col("host_id", "uuid"),        col("preferred_ip", "inet"),
               col("rack", "text"),           col("release_version", "text"),
               col("rpc_address", "inet"),    col("schema_version", "uuid"),
               col("tokens", "set<text>")};
  for (std::size_t i = 0; i < node.ring->nodes.size(); ++i) {
    if (i == node.node_index) {
      continue;
    }
    const node_identity& peer = node.ring->nodes[i];
    const value address = peer.address;
    t.rows.push_back({address, peer.data_center, peer.host_id, value{null_value{}}, peer.rack, "3.11.16",
                      address, uuid_of(schema_version_bytes), token_set(peer.tokens)});
  }
  return t;
}

// scopekit's own: what this node has served, so that a test outside the process (a driver
// against scopekit-cql-server --nodes N) can see where its requests went. A virtual table, as
// Cassandra 4's system_views are: not in system_schema.
virtual_table statistics_table(const node_view& node) {
  virtual_table t{"system_views", "node_statistics", {}, {}};
  t.columns = {col("key", "text"),          col("requests", "bigint"),
               col("statements", "bigint"), col("pages", "bigint"),
               col("rows", "bigint"),       col("authentication_failures", "bigint")};
  const server_statistics& s = node.statistics;
  const auto as_bigint = [](std::uint64_t n) { return value{static_cast<std::int64_t>(n)}; };
  t.rows.push_back({"local", as_bigint(s.requests), as_bigint(s.statements), as_bigint(s.pages),
                    as_bigint(s.rows), as_bigint(s.authentication_failures)});
  return t;
}

// The table options every system_schema.tables (and views) row carries, with 3.11's defaults.
std::vector<column_definition> table_option_columns() {
  return {col("bloom_filter_fp_chance", "double"),
          col("caching", "frozen<map<text, text>>"),
          col("cdc", "boolean"),
          col("comment", "text"),
          col("compaction", "frozen<map<text, text>>"),
          col("compression", "frozen<map<text, text>>"),
          col("crc_check_chance", "double"),
          col("dclocal_read_repair_chance", "double"),
          col("default_time_to_live", "int"),
          col("extensions", "frozen<map<text, blob>>"),
          col("gc_grace_seconds", "int"),
          col("max_index_interval", "int"),
          col("memtable_flush_period_in_ms", "int"),
          col("min_index_interval", "int"),
          col("read_repair_chance", "double"),
          col("speculative_retry", "text")};
}

std::vector<value> table_option_values() {
  return {0.01,
          text_map({{"keys", "ALL"}, {"rows_per_partition", "NONE"}}),
          false,
          "",
          text_map({{"class",
                     "org.apache.cassandra.db.compaction.SizeTieredCompactionStrategy"},
                    {"max_threshold", "32"},
                    {"min_threshold", "4"}}),
          text_map({{"chunk_length_in_kb", "64"},
                    {"class", "org.apache.cassandra.io.compress.LZ4Compressor"}}),
          1.0,
          0.1,
          std::int32_t{0},
          value::map{},
          std::int32_t{864000},
          std::int32_t{2048},
          std::int32_t{0},
          std::int32_t{128},
          0.0,
          "99PERCENTILE"};
}

virtual_table schema_keyspaces(const database& db) {
  virtual_table t{"system_schema", "keyspaces", {}, {}};
  t.columns = {col("keyspace_name", "text"), col("durable_writes", "boolean"),
               col("replication", "frozen<map<text, text>>")};
  for (const auto& [name, ks] : db.keyspaces) {
    t.rows.push_back({name, ks.durable_writes, text_map(ks.replication)});
  }
  return t;
}

virtual_table schema_tables(const database& db) {
  virtual_table t{"system_schema", "tables", {}, {}};
  t.columns = {col("keyspace_name", "text"), col("table_name", "text")};
  for (auto& c : table_option_columns()) {
    t.columns.push_back(std::move(c));
  }
  t.columns.push_back(col("flags", "frozen<set<text>>"));
  t.columns.push_back(col("id", "uuid"));
  for (const auto& [ks_name, ks] : db.keyspaces) {
    for (const auto& [name, table] : ks.tables) {
      std::vector<value> row{ks_name, name};
      for (auto& v : table_option_values()) {
        row.push_back(std::move(v));
      }
      row.emplace_back(text_list({"compound"}));
      row.emplace_back(table->id);
      t.rows.push_back(std::move(row));
    }
  }
  return t;
}

virtual_table schema_columns(const database& db) {
  virtual_table t{"system_schema", "columns", {}, {}};
  t.columns = {col("keyspace_name", "text"),   col("table_name", "text"),
               col("column_name", "text"),     col("clustering_order", "text"),
               col("column_name_bytes", "blob"), col("kind", "text"),
               col("position", "int"),         col("type", "text")};
  for (const auto& [ks_name, ks] : db.keyspaces) {
    for (const auto& [name, table] : ks.tables) {
      for (std::size_t i = 0; i < table->columns.size(); ++i) {
        const column_definition& c = table->columns[i];
        const bool key = i == table->partition_key;
        value::blob name_bytes(c.name.size());
        std::transform(c.name.begin(), c.name.end(), name_bytes.begin(),
                       [](char ch) { return static_cast<std::byte>(ch); });
        t.rows.push_back({ks_name, name, c.name, "none", std::move(name_bytes),
                          key ? "partition_key" : "regular",
                          std::int32_t{key ? 0 : -1}, c.type.cql});
      }
    }
  }
  return t;
}

virtual_table empty_schema_table(std::string_view name) {
  virtual_table t{"system_schema", std::string(name), {}, {}};
  if (name == "types") {
    t.columns = {col("keyspace_name", "text"), col("type_name", "text"),
                 col("field_names", "frozen<list<text>>"),
                 col("field_types", "frozen<list<text>>")};
  } else if (name == "functions") {
    t.columns = {col("keyspace_name", "text"),
                 col("function_name", "text"),
                 col("argument_types", "frozen<list<text>>"),
                 col("argument_names", "frozen<list<text>>"),
                 col("body", "text"),
                 col("called_on_null_input", "boolean"),
                 col("language", "text"),
                 col("return_type", "text")};
  } else if (name == "aggregates") {
    t.columns = {col("keyspace_name", "text"),
                 col("aggregate_name", "text"),
                 col("argument_types", "frozen<list<text>>"),
                 col("final_func", "text"),
                 col("initcond", "text"),
                 col("return_type", "text"),
                 col("state_func", "text"),
                 col("state_type", "text")};
  } else if (name == "triggers") {
    t.columns = {col("keyspace_name", "text"), col("table_name", "text"),
                 col("trigger_name", "text"), col("options", "frozen<map<text, text>>")};
  } else if (name == "indexes") {
    t.columns = {col("keyspace_name", "text"), col("table_name", "text"),
                 col("index_name", "text"), col("kind", "text"),
                 col("options", "frozen<map<text, text>>")};
  } else if (name == "views") {
    t.columns = {col("keyspace_name", "text"),   col("view_name", "text"),
                 col("base_table_id", "uuid"),   col("base_table_name", "text"),
                 col("id", "uuid"),              col("include_all_columns", "boolean"),
                 col("where_clause", "text")};
    for (auto& c : table_option_columns()) {
      t.columns.push_back(std::move(c));
    }
  } else if (name == "dropped_columns") {
    t.columns = {col("keyspace_name", "text"), col("table_name", "text"),
                 col("column_name", "text"), col("dropped_time", "timestamp"),
                 col("type", "text")};
  }
  return t;
}

}  // namespace

bool is_system_keyspace(std::string_view keyspace) noexcept {
  return keyspace == "system" || keyspace == "system_schema" || keyspace == "system_views";
}

std::optional<virtual_table> system_table(std::string_view keyspace, std::string_view name,
                                          const database& db, const node_view& node) {
  if (keyspace == "system") {
    if (name == "local") {
      return local_table(node);
    }
    if (name == "peers") {
      return peers_table(node);
    }
    // peers_v2 included: Cassandra 3.x does not have it, and drivers fall back to peers.
    return std::nullopt;
  }
  if (keyspace == "system_views") {
    return name == "node_statistics" ? std::optional{statistics_table(node)} : std::nullopt;
  }
  if (keyspace != "system_schema") {
    return std::nullopt;
  }
  if (name == "keyspaces") {
    return schema_keyspaces(db);
  }
  if (name == "tables") {
    return schema_tables(db);
  }
  if (name == "columns") {
    return schema_columns(db);
  }
  static constexpr std::array<std::string_view, 7> empty = {
      "types", "functions", "aggregates", "triggers", "indexes", "views", "dropped_columns"};
  if (std::find(empty.begin(), empty.end(), name) != empty.end()) {
    return empty_schema_table(name);
  }
  return std::nullopt;
}

}  // namespace scopekit::cql::server_detail
