// database.cpp - synthetic tables and table ids.
#include "database.hpp"

#include "scopekit/cql/protocol/big_endian.hpp"
#include "scopekit/cql/protocol/token.hpp"

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

namespace {

__extension__ using uint128 = unsigned __int128;  // GCC and Clang; -Wpedantic accepts it so

constexpr std::uint64_t sign_bit = 0x8000000000000000ULL;
constexpr uint128 ring_steps = ~std::uint64_t{0};  // 2^64 - 1

}  // namespace

std::array<std::byte, token_prefix_size> token_prefix(std::int64_t token) noexcept {
  std::array<std::byte, token_prefix_size> out{};
  store_be(static_cast<std::uint64_t>(token) ^ sign_bit, out);
  return out;
}

std::int64_t token_of_row_key(std::span<const std::byte> row_key) noexcept {
  return static_cast<std::int64_t>(load_be<std::uint64_t>(row_key) ^ sign_bit);
}

std::vector<std::byte> row_key(std::span<const std::byte> partition_key) {
  std::vector<std::byte> out(token_prefix_size + partition_key.size());
  const auto prefix = token_prefix(murmur3_token(partition_key));
  std::copy(prefix.begin(), prefix.end(), out.begin());
  std::copy(partition_key.begin(), partition_key.end(), out.begin() + token_prefix_size);
  return out;
}

std::int64_t synthetic_token(std::int64_t id, std::int64_t rows) noexcept {
  const uint128 offset = static_cast<uint128>(id) * ring_steps / static_cast<uint128>(rows);
  // minimum_token + 1 + offset, in unsigned arithmetic: offset <= 2^64 - 2.
  return static_cast<std::int64_t>(static_cast<std::uint64_t>(minimum_token) + 1U +
                                   static_cast<std::uint64_t>(offset));
}

std::int64_t synthetic_first_id(std::int64_t token, std::int64_t rows) noexcept {
  if (token <= minimum_token + 1) {
    return 0;
  }
  // floor(id * S / rows) >= u  <=>  id * S >= u * rows  <=>  id >= ceil(u * rows / S), where u is
  // the token's distance from minimum_token + 1 and S = 2^64 - 1.
  const std::uint64_t u = static_cast<std::uint64_t>(token) - static_cast<std::uint64_t>(minimum_token) - 1U;
  const uint128 id = (static_cast<uint128>(u) * static_cast<uint128>(rows) + ring_steps - 1) / ring_steps;
  return id >= static_cast<uint128>(rows) ? rows : static_cast<std::int64_t>(id);
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
