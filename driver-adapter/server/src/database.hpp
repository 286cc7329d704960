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

struct table {
  std::string keyspace;
  std::string name;
  std::vector<column_definition> columns;
  std::size_t partition_key = 0;
  uuid id;
  /// Rows by the serialized partition key (the iteration order of SELECT).
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
