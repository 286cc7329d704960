// Tests for scopekit/cql/protocol/token.hpp: Murmur3 tokens against values Cassandra computed.
//
// The vectors come from three places, each computed by Cassandra itself: the DataStax C# driver's
// TokenTests.MurmurHashTest ("inputs and result values from Cassandra"), the Elixir driver's
// murmur3 tests (which include tails with bytes >= 0x80, the sign-extension quirk), and cqlsh's
// `SELECT token(k)` output of Cassandra for int and text keys. tests/cql/interop/murmur3_test.py
// compares many random keys with the Python driver's murmur3.
#include "scopekit/cql/protocol/token.hpp"

#include <gtest/gtest.h>

#include <array>
#include <cstddef>
#include <cstdint>
#include <initializer_list>
#include <string_view>
#include <vector>

namespace scopekit::cql::test {
namespace {

std::vector<std::byte> bytes_of(std::initializer_list<int> values) {
  std::vector<std::byte> out;
  for (const int v : values) {
    out.push_back(static_cast<std::byte>(v));
  }
  return out;
}

std::vector<std::byte> text(std::string_view s) {
  std::vector<std::byte> out;
  for (const char c : s) {
    out.push_back(static_cast<std::byte>(c));
  }
  return out;
}

std::vector<std::byte> repeated(std::initializer_list<int> pattern, std::size_t times) {
  std::vector<std::byte> out;
  for (std::size_t i = 0; i < times; ++i) {
    for (const int v : pattern) {
      out.push_back(static_cast<std::byte>(v));
    }
  }
  return out;
}

constexpr std::array<std::byte, 4> int_one = {std::byte{0}, std::byte{0}, std::byte{0},
                                              std::byte{1}};
static_assert(murmur3_token(int_one) == -4069959284402364209,
              "usable in constant expressions (the header's example)");
static_assert(murmur3_hash(std::span<const std::byte>{}) == 0);
static_assert(murmur3_token(std::span<const std::byte>{}) == minimum_token,
              "Murmur3Partitioner.getToken gives the empty key the minimum token");
static_assert(minimum_token == INT64_MIN && maximum_token == INT64_MAX);

struct vector_case {
  std::vector<std::byte> key;
  std::int64_t token;
};

// Keys of 4 to 50 bytes, 16-byte blocks with and without tails.
TEST(Murmur3Token, MatchesTheCSharpDriversVectorsFromCassandra) {
  const std::vector<vector_case> cases = {
      {bytes_of({1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15, 16}), -5563837382979743776},
      {bytes_of({2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15, 16, 17}), -1513403162740402161},
      {bytes_of({3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15, 16, 17, 18}), -495360443712684655},
      {bytes_of({4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15, 16, 17, 18, 19}), 1734091135765407943},
      {bytes_of({5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15, 16, 17, 18, 19, 20}), -3199412112042527988},
      {bytes_of({6, 7, 8, 9, 10, 11, 12, 13, 14, 15, 16, 17, 18, 19, 20, 21}), -6316563938475080831},
      {bytes_of({7, 8, 9, 10, 11, 12, 13, 14, 15, 16, 17, 18, 19, 20, 21, 22}), 8228893370679682632},
      {repeated({0}, 16), 5457549051747178710},
      {repeated({255}, 16), -2824192546314762522},
      {repeated({254}, 16), -833317529301936754},
      {bytes_of({0, 1, 2, 3, 255, 255, 255, 255, 255, 255, 255, 255, 255, 255, 255, 255}),
       6463632673159404390},
      {repeated({254}, 17), -1672437813826982685},
      {repeated({254}, 4), 4566408979886474012},
      {repeated({0}, 4), -3485513579396041028},
      {bytes_of({0, 1, 127, 127}), 6573459401642635627},
      {bytes_of({0, 255, 255, 255}), 123573637386978882},
      {bytes_of({255, 1, 2, 3}), -2839127690952877842},
  };
  for (const vector_case& c : cases) {
    EXPECT_EQ(murmur3_token(c.key), c.token) << "a key of " << c.key.size() << " bytes";
  }
}

// Tails with bytes >= 0x80: a reference MurmurHash3 (unsigned tail bytes) gives other values.
TEST(Murmur3Token, SignExtendsTailBytesAsCassandraDoes) {
  const std::vector<vector_case> cases = {
      {text("123"), -7468325962851647638},
      {repeated({0x00, 0xff, 0x10, 0xfa, 0x99}, 10), 5837342703291459765},
      {repeated({0xfe}, 8), -8927430733708461935},
      {repeated({0x10}, 8), 1446172840243228796},
      {text("9223372036854775807"), 7162290910810015547},
      {bytes_of({0xe2, 0xe7}), -8582699461035929883},
      {bytes_of({0xe2, 0xe7, 0xe2, 0xe7, 0xe2, 0xe7, 0x01}), 2222373981930033306},
  };
  for (const vector_case& c : cases) {
    EXPECT_EQ(murmur3_token(c.key), c.token) << "a key of " << c.key.size() << " bytes";
  }
}

// What cqlsh printed for SELECT token(k) on Cassandra: int keys (4 bytes big-endian) and text.
TEST(Murmur3Token, MatchesCassandrasTokenFunctionOnIntAndTextKeys) {
  const std::vector<vector_case> cases = {
      {bytes_of({0, 0, 0, 1}), -4069959284402364209},
      {bytes_of({0, 0, 0, 2}), -3248873570005575792},
      {bytes_of({0, 0, 0, 4}), -2729420104000364805},
      {bytes_of({0, 0, 0, 5}), -7509452495886106294},
      {bytes_of({0, 0, 0, 8}), -3799847372828181882},
      {bytes_of({0, 0, 0, 10}), -6715243485458697746},
      {text("Rodriguez"), -7199267019458681669},
      {text("Scott"), 1807799317863611380},
      {text("Nguyen"), 6000710198366804598},
  };
  for (const vector_case& c : cases) {
    EXPECT_EQ(murmur3_token(c.key), c.token) << "a key of " << c.key.size() << " bytes";
  }
}

TEST(Murmur3Token, NoKeyHasTheMinimumToken) {
  EXPECT_EQ(murmur3_token({}), minimum_token);  // the empty key: below every real key
  for (int b = 0; b < 256; ++b) {
    const std::array<std::byte, 1> key{static_cast<std::byte>(b)};
    EXPECT_NE(murmur3_token(key), minimum_token) << "the one-byte key " << b;
  }
}

}  // namespace
}  // namespace scopekit::cql::test
