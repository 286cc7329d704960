// topology.cpp - deterministic tokens and host ids for the nodes of a cluster.
#include "topology.hpp"

#include <algorithm>
#include <limits>
#include <unordered_set>

namespace scopekit::cql::server_detail {
namespace {

// splitmix64: a well-mixed sequence from any seed, so that nearby seeds give unrelated tokens.
class splitmix64 {
public:
  explicit splitmix64(std::uint64_t seed) noexcept : state_(seed) {}
  std::uint64_t next() noexcept {
    std::uint64_t z = (state_ += 0x9E3779B97F4A7C15ULL);
    z = (z ^ (z >> 30U)) * 0xBF58476D1CE4E5B9ULL;
    z = (z ^ (z >> 27U)) * 0x94D049BB133111EBULL;
    return z ^ (z >> 31U);
  }

private:
  std::uint64_t state_;
};

}  // namespace

std::vector<std::vector<std::int64_t>> assign_tokens(std::size_t nodes, std::size_t num_tokens,
                                                     std::uint64_t seed) {
  splitmix64 random{seed};
  std::unordered_set<std::int64_t> used;
  std::vector<std::vector<std::int64_t>> out(nodes);
  for (std::size_t t = 0; t < num_tokens; ++t) {
    for (std::size_t n = 0; n < nodes; ++n) {
      std::int64_t token = 0;
      do {
        token = static_cast<std::int64_t>(random.next());
      } while (token == std::numeric_limits<std::int64_t>::min() || !used.insert(token).second);
      out[n].push_back(token);
    }
  }
  for (auto& tokens : out) {
    std::sort(tokens.begin(), tokens.end());
  }
  return out;
}

uuid host_id_for(std::uint64_t seed, std::size_t node) {
  splitmix64 random{seed ^ (0xA5A5A5A5ULL * (node + 1))};
  uuid out;
  for (std::size_t half = 0; half < 2; ++half) {
    std::uint64_t bits = random.next();
    for (std::size_t i = 0; i < 8; ++i) {
      out.bytes[half * 8 + i] = static_cast<std::byte>(bits >> 56U);
      bits <<= 8U;
    }
  }
  // Version 4, variant 1, as a random UUID is.
  out.bytes[6] = (out.bytes[6] & std::byte{0x0F}) | std::byte{0x40};
  out.bytes[8] = (out.bytes[8] & std::byte{0x3F}) | std::byte{0x80};
  return out;
}

topology single_node_topology(std::size_t num_tokens, std::uint64_t seed) {
  topology out;
  node_identity node;
  node.address.bytes[0] = std::byte{127};
  node.address.bytes[3] = std::byte{1};
  node.host_id = host_id_for(seed, 0);
  node.tokens = std::move(assign_tokens(1, num_tokens, seed).front());
  out.nodes.push_back(std::move(node));
  return out;
}

}  // namespace scopekit::cql::server_detail
