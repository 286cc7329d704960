// database.hpp (internal) - what the embedded server stores: keyspaces and tables in memory,
// shared by every connection, plus synthetic tables whose rows are computed from their id.
#pragma once

#include "parser.hpp"

#include "scopekit/cql/protocol/value.hpp"

#include <array>
#include <cstddef>
#include <cstdint>
#include <cstring>
#include <map>
#include <memory>
#include <optional>
#include <shared_mutex>
#include <span>
#include <string>
#include <utility>
#include <vector>

namespace scopekit::cql::server_detail {

/// Orders byte strings as memcmp does, shorter first on a common prefix. (Not
/// std::vector's operator<, whose inlined memcmp trips GCC 12's -Wstringop-overread at -O3.)
struct bytes_less {
  using is_transparent = void;
  bool operator()(std::span<const std::byte> a, std::span<const std::byte> b) const noexcept;
};

/// A cell: its serialized bytes, or nullopt for null.
using cell = std::optional<std::vector<std::byte>>;
using stored_row = std::vector<cell>;

/// Bytes per payload of a synthetic row.
inline constexpr std::size_t synthetic_payload_size = 100;

/// Byte k is k mod 256: every synthetic payload is a window of it.
inline constexpr std::array<std::byte, 256 + synthetic_payload_size> synthetic_pattern = [] {
  std::array<std::byte, 256 + synthetic_payload_size> bytes{};
  for (std::size_t k = 0; k < bytes.size(); ++k) {
    bytes[k] = static_cast<std::byte>(k & 0xFFU);
  }
  return bytes;
}();

/// The payload of synthetic row `id`: byte i is (id * 31 + i) mod 256, the window of
/// synthetic_pattern that starts at (id * 31) mod 256.
inline void synthetic_payload(std::int64_t id,
                              std::span<std::byte, synthetic_payload_size> out) noexcept {
  const std::size_t first = (static_cast<std::uint64_t>(id) * 31U) & 0xFFU;
  std::memcpy(out.data(), synthetic_pattern.data() + first, synthetic_payload_size);
}

/// Bytes of a row key before the serialized partition key: the token, order-preserving.
inline constexpr std::size_t token_prefix_size = 8;

/// `token` as 8 bytes that memcmp orders as the tokens are ordered: big-endian with the sign
/// bit flipped (minimum_token is all zeros, maximum_token all ones).
std::array<std::byte, token_prefix_size> token_prefix(std::int64_t token) noexcept;

/// The token a row key (or a token prefix) starts with. Precondition: at least 8 bytes.
std::int64_t token_of_row_key(std::span<const std::byte> row_key) noexcept;

/// The key of a stored table's row: token_prefix(murmur3_token(partition_key)), then
/// partition_key. The row map iterates in token order, then by key bytes (as Cassandra orders
/// partitions), and a key stays a byte string, so that a paging state can carry it.
std::vector<std::byte> row_key(std::span<const std::byte> partition_key);

// A synthetic table's rows are placed on the ring evenly in order of id, NOT by the Murmur3
// token of the id (which cannot be inverted: a token range would need the table enumerated or
// an index of every row). Row `id` of `rows` has the token
//
//   minimum_token + 1 + floor(id * (2^64 - 1) / rows)
//
// computed exactly in 128 bits: id 0 has minimum_token + 1, the largest id at most
// maximum_token, every token differs (the step (2^64 - 1) / rows is at least 2 for any
// int64_t rows), so token order is id order and a token range is an interval of ids, found by
// arithmetic. token(id) reports these tokens; docs/reference/cql_server.md says why.

/// The token of synthetic row `id` of a table of `rows` rows. Precondition: 0 <= id < rows.
std::int64_t synthetic_token(std::int64_t id, std::int64_t rows) noexcept;

/// The first id of a synthetic table of `rows` rows whose token is >= `token` (rows if none).
std::int64_t synthetic_first_id(std::int64_t token, std::int64_t rows) noexcept;

struct table {
  std::string keyspace;
  std::string name;
  std::vector<column_definition> columns;
  std::size_t partition_key = 0;
  uuid id;
  /// Rows by row_key (the token, then the serialized partition key): the order of SELECT.
  std::map<std::vector<std::byte>, stored_row, bytes_less> rows;
  /// Engaged for a synthetic table (id bigint PRIMARY KEY, name text, payload blob) of that
  /// many rows, ids 0 to n - 1; `rows` stays empty.
  std::optional<std::int64_t> synthetic_rows;
};

struct keyspace {
  std::string name;
  std::vector<std::pair<std::string, std::string>> replication;
  bool durable_writes = true;
  std::map<std::string, std::shared_ptr<table>, std::less<>> tables;
};

/// Every keyspace, guarded by `mutex`: shared for reads, exclusive for schema changes and
/// writes.
struct database {
  mutable std::shared_mutex mutex;
  std::map<std::string, keyspace, std::less<>> keyspaces;
};

/// Adds keyspace `keyspace_name` (SimpleStrategy, replication factor 1) if it does not exist,
/// and the synthetic table `table_name` with `rows` rows (replacing a table of that name).
/// std::invalid_argument for a negative count or a name the system keyspaces use.
void add_synthetic_table(database& db, const std::string& keyspace_name,
                         const std::string& table_name, std::int64_t rows);

/// A deterministic id for a table (a version-4-shaped UUID derived from its names).
uuid table_id(std::string_view keyspace, std::string_view table) noexcept;

}  // namespace scopekit::cql::server_detail
