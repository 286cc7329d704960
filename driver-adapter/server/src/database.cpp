// database.cpp - synthetic tables and table ids.
#include "database.hpp"

#include "scopekit/cql/protocol/big_endian.hpp"

#include <algorithm>
#include <cstring>
#include <mutex>
#include <stdexcept>

namespace scopekit::cql::server_detail {

bool bytes_less::operator()(std::span<const std::byte> a,
                            std::span<const std::byte> b) const noexcept {
  const std::size_t n = std::min(a.size(), b.size());
  const int c = n == 0 ? 0 : std::memcmp(a.data(), b.data(), n);
  return c < 0 || (c == 0 && a.size() < b.size());
}

uuid table_id(std::string_view keyspace, std::string_view table) noexcept {
  // Two FNV-1a hashes of "keyspace.table" with different offsets, shaped as a version 4 UUID.
  auto fnv = [&](std::uint64_t h) {
    auto mix = [&h](std::string_view text) {
      for (const char c : text) {
        h ^= static_cast<unsigned char>(c);
        h *= 0x100000001b3ULL;
      }
    };
    mix(keyspace);
    mix(".");
    mix(table);
    return h;
  };
  const std::uint64_t high = fnv(0xcbf29ce484222325ULL);
  const std::uint64_t low = fnv(0x84222325cbf29ce4ULL);
  uuid out;
  store_be(high, std::span(out.bytes).first(8));
  store_be(low, std::span(out.bytes).subspan(8));
  out.bytes[6] = (out.bytes[6] & std::byte{0x0F}) | std::byte{0x40};
  out.bytes[8] = (out.bytes[8] & std::byte{0x3F}) | std::byte{0x80};
  return out;
}

void add_synthetic_table(database& db, const std::string& keyspace_name,
                         const std::string& table_name, std::int64_t rows) {
  if (rows < 0) {
    throw std::invalid_argument("a synthetic table needs a row count of 0 or more");
  }
  if (keyspace_name.empty() || table_name.empty()) {
    throw std::invalid_argument("a synthetic table needs a keyspace and a table name");
  }
  if (keyspace_name == "system" || keyspace_name.rfind("system_", 0) == 0) {
    throw std::invalid_argument("keyspace " + keyspace_name + " is reserved for system tables");
  }
  auto t = std::make_shared<table>();
  t->keyspace = keyspace_name;
  t->name = table_name;
  t->columns = {{"id", {type_id::bigint, "bigint"}},
                {"name", {type_id::varchar, "text"}},
                {"payload", {type_id::blob, "blob"}}};
  t->partition_key = 0;
  t->id = table_id(keyspace_name, table_name);
  t->synthetic_rows = rows;

  const std::unique_lock lock{db.mutex};
  auto [it, inserted] = db.keyspaces.try_emplace(keyspace_name);
  if (inserted) {
    it->second.name = keyspace_name;
    it->second.replication = {{"class", "org.apache.cassandra.locator.SimpleStrategy"},
                              {"replication_factor", "1"}};
  }
  it->second.tables.insert_or_assign(table_name, std::move(t));
}

}  // namespace scopekit::cql::server_detail
