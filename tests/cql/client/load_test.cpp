// Load test for scopekit/cql/client/row_stream.hpp: 1,000 streams over ONE connection, children of
// one async_scope on one run_loop, each reading every row of a 2,000-row synthetic table in pages
// of 100 with one page fetched ahead. Checks each stream's row count and id sum, and bounded
// memory by counting, not timing: a stream never holds more than prefetch + 2 pages (the one
// being read, those fetched ahead, the one arriving), and the connection never has more than
// one request pending per stream. Every tenth stream stops reading after its first row until
// all the others are done, so read-ahead that ignored the consumer would pile up pages there.
// And every stream waits, once open, until all of them are: the 1,000 are open at once by
// construction, whatever order the server answers in (it once served a stream's later pages
// before another stream's first one, so that one stream had closed when the last one opened).
// Prints the process's peak RSS (getrusage) for information.
#include "scopekit/cql/client/row_stream.hpp"

#include "scopekit/async_scope.hpp"
#include "scopekit/cql/server/server.hpp"
#include "scopekit/cql/client/session.hpp"
#include "scopekit/oneshot.hpp"
#include "scopekit/sync_wait.hpp"
#include "scopekit/task.hpp"
#include "support/wait_until.hpp"

#include <gtest/gtest.h>

#include <sys/resource.h>

#include <algorithm>
#include <chrono>
#include <cstddef>
#include <cstdint>
#include <cstdio>
#include <optional>
#include <string>
#include <utility>
#include <vector>

namespace scopekit::cql::test {
namespace {

using namespace std::chrono_literals;
using scopekit::test::wait_until;

constexpr std::size_t stream_count = 1000;
constexpr std::int64_t table_rows = 2000;
constexpr std::int32_t page_size = 100;
constexpr std::size_t prefetch = 1;
constexpr std::size_t slow_every = 10;  // streams 0, 10, 20... pause after their first row

struct stream_report {
  std::int64_t rows = 0;
  std::int64_t id_sum = 0;
  std::size_t max_pages_held = 0;
};

struct load_peaks {
  std::size_t live_streams = 0;
  std::size_t pending = 0;
};

// Holds each stream, once open, until every stream is open: the last one releases the others.
struct open_gate {
  std::size_t opened = 0;
  std::vector<oneshot_sender<bool>> waiting;
};

// Reads the whole table; with a `pause`, stops after the first row until it is released.
task<void> read_table(session& s, stream_report& out, load_peaks& peaks, open_gate& gate,
                      std::optional<oneshot_receiver<bool>> pause) {
  stream_options o;
  o.page_size = page_size;
  o.prefetch_pages = prefetch;
  o.total_timeout = 200s;  // a lost wake-up fails the stream before ctest's 300 s
  row_stream rows = co_await s.execute_stream("SELECT id FROM demo.rows", std::move(o));
  if (++gate.opened == stream_count) {
    peaks.live_streams = diagnostics::live_row_streams();
    for (oneshot_sender<bool>& w : gate.waiting) {
      w.set_value(true);
    }
  } else {
    auto [open, wait] = make_oneshot<bool>();
    gate.waiting.push_back(std::move(open));
    co_await std::move(wait);  // the connection may fetch this stream's next page meanwhile
  }
  while (auto r = co_await rows.next()) {
    ++out.rows;
    out.id_sum += r->get<std::int64_t>(0);
    // Received and not finished with: the page being read and those queued behind it.
    const std::size_t held = rows.pages_fetched() - (rows.page_number() - 1);
    out.max_pages_held = std::max(out.max_pages_held, held);
    peaks.pending = std::max(peaks.pending, s.connection()->pending());
    if (pause) {
      co_await std::move(*pause);  // the connection keeps serving this stream meanwhile
      pause.reset();
    }
  }
  co_await rows.close();
}

// Reads the whole table, then releases the paused streams if it was the last fast one.
task<void> read_table_then_release(session& s, stream_report& out, load_peaks& peaks,
                                   open_gate& gate, std::size_t& fast_left,
                                   std::vector<oneshot_sender<bool>>& paused) {
  co_await read_table(s, out, peaks, gate, std::nullopt);
  if (--fast_left == 0) {
    for (oneshot_sender<bool>& p : paused) {
      p.set_value(true);
    }
  }
}

long peak_rss_kib() {
  rusage usage{};
  ::getrusage(RUSAGE_SELF, &usage);
  return usage.ru_maxrss;
}

TEST(CqlLoad, ThousandStreamsOverOneConnection) {
  server srv;
  srv.add_synthetic_table("demo", "rows", table_rows);
  srv.start();
  session_options so;
  so.port = srv.port();
  session s = sync_wait(session::connect(std::move(so)));

  std::vector<stream_report> reports(stream_count);
  load_peaks peaks;
  open_gate gate;
  const long rss_before = peak_rss_kib();
  std::vector<oneshot_sender<bool>> paused;
  std::size_t fast_left = stream_count - (stream_count + slow_every - 1) / slow_every;
  sync_wait(async_scope::run([&](async_scope& scope) -> task<> {
    for (std::size_t i = 0; i < stream_count; ++i) {
      if (i % slow_every == 0) {
        auto [release, pause] = make_oneshot<bool>();
        paused.push_back(std::move(release));
        scope.spawn(read_table(s, reports[i], peaks, gate, std::move(pause)));
      } else {
        scope.spawn(read_table_then_release(s, reports[i], peaks, gate, fast_left, paused));
      }
    }
    co_return;
  }));

  std::size_t max_held = 0;
  for (std::size_t i = 0; i < stream_count; ++i) {
    EXPECT_EQ(reports[i].rows, table_rows) << "stream " << i;
    EXPECT_EQ(reports[i].id_sum, table_rows * (table_rows - 1) / 2) << "stream " << i;
    EXPECT_LE(reports[i].max_pages_held, prefetch + 1) << "stream " << i;
    max_held = std::max(max_held, reports[i].max_pages_held);
  }
  EXPECT_EQ(fast_left, 0U);
  // When the last stream opened, none had read a row: all 1,000 were open at once.
  EXPECT_EQ(gate.opened, stream_count);
  EXPECT_EQ(peaks.live_streams, stream_count);
  EXPECT_LE(peaks.pending, stream_count) << "more than one request in flight for a stream";
  EXPECT_EQ(diagnostics::live_row_streams(), 0U);
  EXPECT_TRUE(wait_until([&] { return s.connection()->pending() == 0; }));
  EXPECT_EQ(srv.connection_count(), 1U);

  const long rss_after = peak_rss_kib();
  std::printf("[ report   ] %zu streams x %lld rows: peak pending %zu, most pages held by a "
              "stream %zu, peak RSS %ld KiB (%ld KiB before the streams)\n",
              stream_count, static_cast<long long>(table_rows), peaks.pending, max_held,
              rss_after, rss_before);
  RecordProperty("peak_rss_kib", std::to_string(rss_after));
  RecordProperty("peak_pending", std::to_string(peaks.pending));
  sync_wait(s.close());
}

}  // namespace
}  // namespace scopekit::cql::test
