// Tests for scopekit/cql/protocol/frame.hpp: the 9-byte header, the body limit, and frame_splitter
// fed in chunks of every size.
#include "scopekit/cql/protocol/frame.hpp"

#include "support/cql/codec_helpers.hpp"
#include "support/cql/vectors.hpp"
#include "support/allocation_counter.hpp"

#include <gtest/gtest.h>

#include <algorithm>
#include <cstdint>
#include <vector>

namespace scopekit::cql::test {
namespace {

namespace vectors = scopekit::cql::test;

static_assert(scopekit::cql::header_size == 9);
static_assert(scopekit::cql::default_max_body_size == std::size_t{256} * 1024 * 1024);
static_assert(std::is_nothrow_move_constructible_v<frame_splitter>);

TEST(FrameHeader, DecodesTheOptionsVector) {
  const frame_header h = decode_header(vectors::options_header);
  EXPECT_EQ(h.version, 0x04);
  EXPECT_FALSE(h.is_response());
  EXPECT_EQ(h.protocol_version(), 4);
  EXPECT_EQ(h.flags, 0);
  EXPECT_EQ(h.stream, 1);
  EXPECT_EQ(h.op, opcode::options);
  EXPECT_EQ(h.length, 0);
}

TEST(FrameHeader, DecodesAResponseWithNegativeStream) {
  const frame_header h = decode_header(vectors::event_header);
  EXPECT_TRUE(h.is_response());
  EXPECT_EQ(h.protocol_version(), 4);
  EXPECT_EQ(h.flags, scopekit::cql::frame_flags::warning);
  EXPECT_EQ(h.stream, -1);  // EVENT frames use stream -1
  EXPECT_EQ(h.op, opcode::event);
  EXPECT_EQ(h.length, 256);
}

TEST(FrameHeader, EncodesByteExact) {
  bytes out;
  byte_writer w(out);
  encode_header(w, frame_header{0x04, 0, 1, opcode::options, 0});
  encode_header(w, frame_header{0x84, 0x08, -1, opcode::event, 256});
  EXPECT_EQ(out, cat({vectors::options_header, vectors::event_header}));
}

TEST(FrameHeader, EveryStrictPrefixIsAnError) {
  for (std::size_t n = 0; n < scopekit::cql::header_size; ++n) {
    const auto e = protocol_error_from(
        [&] { decode_header(std::span<const std::byte>(vectors::options_header).first(n)); });
    EXPECT_EQ(e.field(), "frame.header") << "prefix " << n;
  }
}

TEST(FrameHeader, NegativeLengthIsAnError) {
  const bytes h = b({0x04, 0x00, 0x00, 0x00, 0x07, 0xFF, 0xFF, 0xFF, 0xFF});
  const auto e = protocol_error_from([&] { decode_header(h); });
  EXPECT_STREQ(e.what(), "frame.length: negative body length -1 at offset 5");
}

TEST(FrameHeader, LengthOverTheLimitIsAnError) {
  const bytes h = b({0x04, 0x00, 0x00, 0x00, 0x07, 0x10, 0x00, 0x00, 0x01});  // 256 MB + 1
  const auto e = protocol_error_from([&] { decode_header(h); });
  EXPECT_STREQ(e.what(),
               "frame.length: body length 268435457 at offset 5 exceeds the limit of 268435456 "
               "bytes");
  EXPECT_NO_THROW(decode_header(h, 268435457));  // the limit is configurable
}

TEST(FrameHeader, AcceptsAnyVersionAndOpcode) {
  // A server must still read a v5 (or v3) header to refuse the version properly.
  const bytes h = b({0x05, 0x00, 0x00, 0x00, 0x42, 0x00, 0x00, 0x00, 0x00});
  const frame_header decoded = decode_header(h);
  EXPECT_EQ(decoded.protocol_version(), 5);
  EXPECT_EQ(static_cast<int>(decoded.op), 0x42);
}

TEST(Frame, BeginAndEndFrameFillInTheLength) {
  bytes out;
  byte_writer w(out);
  w.write_byte(0xEE);  // frames need not start at offset 0
  const std::size_t start = begin_frame(w, 0x84, 0, 3, opcode::result);
  w.write_int(1);
  end_frame(w, start);
  EXPECT_EQ(out, cat({b({0xEE}), frame_bytes(0x84, 0, 3, 0x08, vectors::result_void_body)}));
}

TEST(Frame, OpcodeNames) {
  EXPECT_EQ(to_string(opcode::register_), "REGISTER");
  EXPECT_EQ(to_string(opcode::auth_success), "AUTH_SUCCESS");
  EXPECT_EQ(to_string(static_cast<opcode>(0x04)), "unknown opcode");
}

// ---- frame_splitter -------------------------------------------------------------------------

bytes three_frames() {
  return cat({frame_bytes(0x04, 0, 0, 0x05, vectors::options_body),
              frame_bytes(0x04, 0, 1, 0x01, vectors::startup_body),
              frame_bytes(0x04, 0, 2, 0x07, vectors::query_all_flags_body)});
}

std::vector<frame> split(const bytes& stream, std::size_t chunk) {
  frame_splitter splitter;
  std::vector<frame> frames;
  for (std::size_t at = 0; at < stream.size(); at += chunk) {
    const auto piece =
        std::span<const std::byte>(stream).subspan(at, std::min(chunk, stream.size() - at));
    splitter.feed_all(piece, [&](frame&& f) { frames.push_back(std::move(f)); });
  }
  EXPECT_EQ(splitter.buffered(), 0U);  // nothing left over
  return frames;
}

TEST(FrameSplitter, SplitsAStreamFedInChunksOfEverySize) {
  const bytes stream = three_frames();
  for (std::size_t chunk = 1; chunk <= stream.size(); ++chunk) {
    const std::vector<frame> frames = split(stream, chunk);
    ASSERT_EQ(frames.size(), 3U) << "chunk " << chunk;
    EXPECT_EQ(frames[0].header.op, opcode::options);
    EXPECT_TRUE(frames[0].body.empty());
    EXPECT_EQ(frames[1].header.stream, 1);
    EXPECT_EQ(frames[1].body, vectors::startup_body);
    EXPECT_EQ(frames[2].header.length,
              static_cast<std::int32_t>(vectors::query_all_flags_body.size()));
    EXPECT_EQ(frames[2].body, vectors::query_all_flags_body);
  }
}

TEST(FrameSplitter, FeedStopsAtTheEndOfAFrame) {
  const bytes stream = three_frames();
  frame_splitter splitter;
  const std::size_t used = splitter.feed(stream);
  EXPECT_EQ(used, 9U);  // the OPTIONS frame only: its body is empty
  EXPECT_TRUE(splitter.has_frame());
  EXPECT_EQ(splitter.feed(std::span<const std::byte>(stream).subspan(used)), 0U);  // not taken yet
  const frame f = splitter.take();
  EXPECT_EQ(f.header.op, opcode::options);
  EXPECT_FALSE(splitter.has_frame());
}

TEST(FrameSplitter, BuffersAPartialFrame) {
  const bytes f = frame_bytes(0x04, 0, 7, 0x09, vectors::prepare_body);
  frame_splitter splitter;
  EXPECT_EQ(splitter.feed(std::span<const std::byte>(f).first(12)), 12U);
  EXPECT_FALSE(splitter.has_frame());
  EXPECT_EQ(splitter.buffered(), 12U);
  EXPECT_EQ(splitter.feed(std::span<const std::byte>(f).subspan(12)), f.size() - 12);
  ASSERT_TRUE(splitter.has_frame());
  EXPECT_EQ(splitter.take().body, vectors::prepare_body);
}

TEST(FrameSplitter, BodyOverTheLimitFailsBeforeAllocating) {
  frame_splitter splitter(1024);
  const bytes header = b({0x04, 0x00, 0x00, 0x00, 0x07, 0x00, 0x00, 0x04, 0x01});  // 1025 bytes
  const long long before = scopekit::test::allocated_bytes();
  const auto e = protocol_error_from([&] { splitter.feed(header); });
  const long long allocated = scopekit::test::allocated_bytes() - before;
  EXPECT_STREQ(e.what(),
               "frame.length: body length 1025 at offset 5 exceeds the limit of 1024 bytes");
  EXPECT_LT(allocated, 1024);  // the error message only, never the body
}

TEST(FrameSplitter, FailedSplitterKeepsFailing) {
  frame_splitter splitter(16);
  const bytes header = b({0x04, 0x00, 0x00, 0x00, 0x07, 0x7F, 0xFF, 0xFF, 0xFF});
  EXPECT_THROW(splitter.feed(header), protocol_error);
  const auto e = protocol_error_from([&] { splitter.feed(vectors::options_header); });
  EXPECT_EQ(e.field(), "frame.length");  // the same error again: the stream is lost
}

TEST(FrameSplitter, AnnouncedBodyIsNotAllocatedBeforeItArrives) {
  // 200 MB announced (under the default limit), 3 bytes sent: memory follows the bytes.
  frame_splitter splitter;
  const bytes start = b({0x04, 0x00, 0x00, 0x00, 0x07, 0x0B, 0xEB, 0xC2, 0x00, 0x01, 0x02, 0x03});
  const long long before = scopekit::test::allocated_bytes();
  EXPECT_EQ(splitter.feed(start), start.size());
  const long long allocated = scopekit::test::allocated_bytes() - before;
  EXPECT_FALSE(splitter.has_frame());
  EXPECT_LE(allocated, 1 << 20);  // at most the first 1 MiB reservation
}

TEST(FrameSplitter, SmallBodyIsAllocatedOnce) {
  SCOPEKIT_SKIP_WITHOUT_ALLOCATION_COUNTER();
  const bytes f = frame_bytes(0x04, 0, 0, 0x07, vectors::query_all_flags_body);
  frame_splitter splitter;
  const long before = scopekit::test::allocations();
  for (const std::byte& one : f) {
    splitter.feed(std::span<const std::byte>(&one, 1));
  }
  EXPECT_EQ(scopekit::test::allocations() - before, 1);  // one buffer, exactly the body's size
  EXPECT_EQ(splitter.take().body.capacity(), vectors::query_all_flags_body.size());
}

TEST(FrameSplitter, LargeBodyGrowsAndArrivesIntact) {
  bytes body(3U << 20U);  // 3 MiB, bigger than the first reservation
  for (std::size_t i = 0; i < body.size(); ++i) {
    body[i] = static_cast<std::byte>(i * 7);
  }
  const bytes f = frame_bytes(0x84, 0, 9, 0x08, body);
  const std::vector<frame> frames = split(f, 65536);
  ASSERT_EQ(frames.size(), 1U);
  EXPECT_EQ(frames[0].body, body);
  // Never more than announced, plus the eighth kept so that the buffer can be recycled.
  EXPECT_LE(frames[0].body.capacity(), body.size() + body.size() / 8);
}

// A frame of `length` bytes whose body bytes are i * 13 + seed.
bytes numbered_frame(std::size_t length, unsigned seed) {
  bytes body(length);
  for (std::size_t i = 0; i < length; ++i) {
    body[i] = static_cast<std::byte>(i * 13 + seed);
  }
  return frame_bytes(0x84, 0, 3, 0x08, body);
}

std::span<const std::byte> body_of(const bytes& f) {
  return std::span<const std::byte>(f).subspan(header_size);
}

TEST(FrameSplitter, BodySpaceReceivesInPlace) {
  const bytes f = numbered_frame(200000, 1);
  frame_splitter splitter;
  EXPECT_TRUE(splitter.body_space().empty());  // no header yet
  EXPECT_EQ(splitter.feed(std::span<const std::byte>(f).first(header_size)), header_size);
  std::span<const std::byte> rest = body_of(f);
  while (!rest.empty()) {
    const std::span<std::byte> room = splitter.body_space();
    ASSERT_FALSE(room.empty());
    const std::size_t n = std::min({room.size(), rest.size(), std::size_t{50000}});
    std::copy_n(rest.begin(), n, room.begin());
    splitter.commit(n);
    rest = rest.subspan(n);
    EXPECT_EQ(splitter.buffered(), header_size + (200000 - rest.size()));
  }
  ASSERT_TRUE(splitter.has_frame());
  EXPECT_TRUE(splitter.body_space().empty());  // complete: nothing more goes in
  const frame out = splitter.take();
  EXPECT_TRUE(std::equal(out.body.begin(), out.body.end(), body_of(f).begin(), body_of(f).end()));
}

TEST(FrameSplitter, BodySpaceNeverRunsPastTheBody) {
  const bytes f = numbered_frame(70000, 2);
  frame_splitter splitter;
  splitter.feed(std::span<const std::byte>(f).first(header_size + 10));
  std::size_t offered = 10;
  for (std::span<std::byte> room = splitter.body_space(); !room.empty();
       room = splitter.body_space()) {
    offered += room.size();
    std::copy_n(body_of(f).begin() + static_cast<std::ptrdiff_t>(offered - room.size()),
                room.size(), room.begin());
    splitter.commit(room.size());
  }
  EXPECT_EQ(offered, 70000U);  // exactly the announced length, however it was offered
  EXPECT_TRUE(splitter.has_frame());
}

TEST(FrameSplitter, RecycledBufferTakesTheNextLargeBodyWithoutAllocating) {
  SCOPEKIT_SKIP_WITHOUT_ALLOCATION_COUNTER();
  const bytes first = numbered_frame(100000, 3);
  const bytes second = numbered_frame(90000, 4);
  frame_splitter splitter;
  splitter.feed_all(first, [&](frame&& f) { splitter.recycle(std::move(f.body)); });
  ASSERT_TRUE(splitter.has_spare());
  const long before = scopekit::test::allocations();
  std::vector<frame> frames;
  splitter.feed_all(second, [&](frame&& f) { frames.push_back(std::move(f)); });
  EXPECT_EQ(scopekit::test::allocations() - before, 1);  // the vector of frames, not the body
  ASSERT_EQ(frames.size(), 1U);
  EXPECT_FALSE(splitter.has_spare());
  // Shorter than the buffer's old contents: exactly the new body, nothing of the old one.
  EXPECT_TRUE(std::equal(frames[0].body.begin(), frames[0].body.end(), body_of(second).begin(),
                         body_of(second).end()));
}

TEST(FrameSplitter, SmallFrameLeavesTheSpareAlone) {
  frame_splitter splitter;
  splitter.recycle(bytes(100000));
  const bytes small = frame_bytes(0x84, 0, 0, 0x02, bytes{});  // READY, empty body
  splitter.feed_all(small, [](frame&&) {});
  EXPECT_TRUE(splitter.has_spare());  // kept for a large body
}

TEST(FrameSplitter, TooSmallSpareIsDroppedNotGrown) {
  frame_splitter splitter;
  splitter.recycle(bytes(20000));
  const bytes f = numbered_frame(200000, 5);
  std::vector<frame> frames;
  splitter.feed_all(f, [&](frame&& out) { frames.push_back(std::move(out)); });
  EXPECT_FALSE(splitter.has_spare());  // freed: a 20 kB buffer cannot hold 200 kB
  ASSERT_EQ(frames.size(), 1U);
  EXPECT_TRUE(std::equal(frames[0].body.begin(), frames[0].body.end(), body_of(f).begin(),
                         body_of(f).end()));
}

}  // namespace
}  // namespace scopekit::cql::test
