// Tests for scopekit/cql/protocol/consistency.hpp: wire values, names, and rejection of unknown
// levels.
#include "scopekit/cql/protocol/consistency.hpp"

#include "support/cql/codec_helpers.hpp"
#include "support/cql/vectors.hpp"

#include <gtest/gtest.h>

namespace scopekit::cql::test {
namespace {

TEST(Consistency, WireValuesAreTheSpecs) {
  bytes out;
  byte_writer w(out);
  write_consistency(w, consistency::one);
  write_consistency(w, consistency::quorum);
  write_consistency(w, consistency::local_one);
  EXPECT_EQ(out, b({0x00, 0x01, 0x00, 0x04, 0x00, 0x0A}));
}

TEST(Consistency, ReadsEveryLevel) {
  for (int level = 0; level <= 0x0A; ++level) {
    const bytes in = b({0x00, level});
    byte_reader r(in);
    EXPECT_EQ(static_cast<int>(read_consistency(r, "cl")), level);
  }
}

TEST(Consistency, UnknownLevelIsAnError) {
  const bytes in = b({0x00, 0x00, 0x0B});
  byte_reader r(in);
  r.read_byte("pad");
  const auto e = protocol_error_from([&] { read_consistency(r, "query.consistency"); });
  EXPECT_STREQ(e.what(), "query.consistency: unknown consistency 0x000b at offset 1");
}

TEST(Consistency, Names) {
  EXPECT_EQ(to_string(consistency::local_quorum), "LOCAL_QUORUM");
  EXPECT_EQ(to_string(consistency::any), "ANY");
}

}  // namespace
}  // namespace scopekit::cql::test
