// Tests for the server's per-connection protocol core (driver-adapter/server/src/
// connection_session.hpp, internal): backpressure, driven without sockets so that what the
// session holds back is seen exactly.
#include "connection_session.hpp"

#include "support/cql/test_client.hpp"

#include "scopekit/cql/protocol/frame.hpp"
#include "scopekit/cql/protocol/response.hpp"

#include <gtest/gtest.h>

#include <algorithm>
#include <cstddef>
#include <cstdint>
#include <span>
#include <utility>
#include <vector>

namespace scopekit::cql::test {
namespace {

/// The responses in `out`, in order; `largest_frame` grows to the size of the largest.
std::vector<response> responses_in(const bytes& out, std::size_t& largest_frame) {
  frame_splitter splitter;
  std::vector<response> all;
  std::span<const std::byte> rest{out};
  while (!rest.empty()) {
    rest = rest.subspan(splitter.feed(rest));
    while (splitter.has_frame()) {
      frame f = splitter.take();
      largest_frame = std::max(largest_frame, header_size + f.body.size());
      all.push_back(decode_response(std::move(f)));
    }
  }
  return all;
}

TEST(ConnectionSession, BackpressureHoldsRequestsBackOnceResponsesFillTheLimit) {
  server_detail::server_shared shared;
  server_detail::add_synthetic_table(shared.db, "demo", "rows", 1000);
  server_detail::connection_context context;
  context.max_pending_response_bytes = std::size_t{16} * 1024;
  server_detail::connection_session session{context, shared};

  constexpr int requests = 100;
  query_parameters page;
  page.page_size = 100;  // about 13 KB a response
  bytes in = startup(0);
  for (int i = 1; i <= requests; ++i) {
    const bytes f = query(static_cast<std::int16_t>(i), "SELECT * FROM demo.rows", page);
    in.insert(in.end(), f.begin(), f.end());
  }

  std::vector<server_detail::deferred_response> later;
  std::vector<response> answered;
  std::size_t largest_batch = 0;
  std::size_t largest_frame = 0;
  bytes out;
  ASSERT_TRUE(session.consume(in, out, later));
  for (;;) {
    const std::vector<response> batch = responses_in(out, largest_frame);
    largest_batch = std::max(largest_batch, out.size());
    answered.insert(answered.end(), batch.begin(), batch.end());
    if (!session.has_unanswered()) {
      break;
    }
    out.clear();
    ASSERT_TRUE(session.consume({}, out, later));
  }
  ASSERT_EQ(answered.size(), static_cast<std::size_t>(requests) + 1);  // and READY
  for (int i = 1; i <= requests; ++i) {
    EXPECT_EQ(answered[static_cast<std::size_t>(i)].stream, i);  // in order, none lost
  }
  // Each batch stops at the first response that reaches the limit.
  EXPECT_LT(largest_batch, context.max_pending_response_bytes + largest_frame);
  EXPECT_TRUE(later.empty());
}

}  // namespace
}  // namespace scopekit::cql::test
