// Tests for the faults of scopekit/cql/server/server.hpp: every fault::action, what a fault matches
// (statement_contains, from_page, times), inject / remove_fault / clear_faults, and faults on
// EXECUTE. An in-process server on an ephemeral port, driven over TCP by the blocking client of
// test_client.hpp (every read has a receive timeout). Orderings are checked without sleeping: a
// delayed response is seen to be overtaken by a later request's, a stalled one to be missing
// when the server closes the connection.
#include "scopekit/cql/server/server.hpp"

#include "support/cql/test_client.hpp"

#include "scopekit/cql/protocol/error.hpp"
#include "scopekit/cql/protocol/frame.hpp"
#include "scopekit/cql/protocol/request.hpp"
#include "scopekit/cql/protocol/response.hpp"
#include "scopekit/cql/protocol/value.hpp"

#include <gtest/gtest.h>

#include <chrono>
#include <cstddef>
#include <cstdint>
#include <optional>
#include <string>
#include <thread>
#include <utility>
#include <variant>
#include <vector>

namespace scopekit::cql::test {
namespace {

using namespace std::chrono_literals;

/// Rows of the synthetic table demo.rows every test has.
constexpr std::int64_t demo_rows = 10;

/// Waits, at most the client's receive timeout, until `srv` has `n` connections open: the
/// count drops on the server's thread just after the client sees the connection end.
bool connection_count_becomes(const server& srv, std::size_t n) {
  const auto deadline =
      std::chrono::steady_clock::now() + std::chrono::seconds{receive_timeout_seconds};
  while (srv.connection_count() != n) {
    if (std::chrono::steady_clock::now() > deadline) {
      return false;
    }
    std::this_thread::sleep_for(1ms);
  }
  return true;
}

/// The bigint column 0 of every row of every page, in order.
std::vector<std::int64_t> ids_of(const std::vector<rows_result>& pages) {
  std::vector<std::int64_t> out;
  for (const rows_result& page : pages) {
    for (std::size_t r = 0; r < page.row_count(); ++r) {
      out.push_back(decode_bigint(page.cell(r, 0)));
    }
  }
  return out;
}

std::vector<std::int64_t> all_ids() {
  std::vector<std::int64_t> out;
  for (std::int64_t id = 0; id < demo_rows; ++id) {
    out.push_back(id);
  }
  return out;
}

/// `d` with its consistency, if it has one, set to ONE. The fault's details leave the
/// consistency unspecified: the server sends ANY in the write errors, ONE in the others.
error_details ignoring_consistency(error_details d) {
  std::visit(
      [](auto& details) {
        if constexpr (requires { details.consistency; }) {
          details.consistency = consistency::one;
        }
      },
      d);
  return d;
}

fault error_fault(std::string statement_contains, error_code code, std::string message = {}) {
  fault f;
  f.what = fault::action::error;
  f.statement_contains = std::move(statement_contains);
  f.error = code;
  if (!message.empty()) {
    f.message = std::move(message);
  }
  return f;
}

fault fault_of(fault::action what, std::string statement_contains) {
  fault f;
  f.what = what;
  f.statement_contains = std::move(statement_contains);
  return f;
}

query_parameters pages_of(std::int32_t page_size,
                          std::optional<std::vector<std::byte>> paging_state = std::nullopt) {
  query_parameters p;
  p.page_size = page_size;
  p.paging_state = std::move(paging_state);
  return p;
}

class CqlFaults : public ::testing::Test {
protected:
  void SetUp() override {
    srv_.add_synthetic_table("demo", "rows", demo_rows);
    srv_.start();
    client_.emplace(srv_.port());
    client_->start();
  }

  client& c() { return *client_; }
  std::uint16_t port() const { return srv_.port(); }

  /// The row count of `statement`, which must give Rows.
  std::size_t row_count(const std::string& statement) {
    return rows_of(c().query(statement)).row_count();
  }

  server srv_;
  std::optional<client> client_;
};

// ---- error ----------------------------------------------------------------------------------

TEST_F(CqlFaults, ErrorAnswersTheInjectedCodeAndMessage) {
  srv_.inject(error_fault("demo.rows", error_code::overloaded, "too busy"));
  const response r = c().query("SELECT * FROM demo.rows");
  EXPECT_EQ(error_of(r), (error_response{error_code::overloaded, "too busy", {}}));
  EXPECT_EQ(row_count("SELECT * FROM system.local"), 1U);  // not matched
  const error_response again = error_of(c().query("SELECT id FROM demo.rows WHERE id = 1"));
  EXPECT_EQ(again.code, error_code::overloaded);  // times < 0: every matching request
}

TEST_F(CqlFaults, ErrorDefaultsToServerErrorWithAMessageSayingItIsInjected) {
  fault f;
  f.statement_contains = "demo.rows";
  srv_.inject(f);
  const error_response e = error_of(c().query("SELECT * FROM demo.rows"));
  EXPECT_EQ(e.code, error_code::server_error);
  EXPECT_EQ(e.message, "fault injected by scopekit::cql::server");
}

TEST_F(CqlFaults, ErrorCodesWithExtraFieldsCarryDefaultFields) {
  const std::vector<std::pair<error_code, error_details>> cases = {
      {error_code::unavailable, unavailable_error{}},
      {error_code::write_timeout, write_timeout_error{{}, 0, 0, "SIMPLE"}},
      {error_code::read_timeout, read_timeout_error{}},
      {error_code::read_failure, read_failure_error{}},
      {error_code::function_failure, function_failure_error{}},
      {error_code::write_failure, write_failure_error{{}, 0, 0, 0, "SIMPLE"}},
      {error_code::already_exists, already_exists_error{}},
      {error_code::unprepared, unprepared_error{}},  // a QUERY has no id
      {error_code::is_bootstrapping, std::monostate{}},
      {error_code::invalid, std::monostate{}},
  };
  for (const auto& [code, details] : cases) {
    SCOPED_TRACE(std::string(to_string(code)));
    srv_.clear_faults();
    srv_.inject(error_fault("demo.rows", code, "injected"));
    const error_response e = error_of(c().query("SELECT * FROM demo.rows"));
    EXPECT_EQ(e.code, code);
    EXPECT_EQ(e.message, "injected");
    EXPECT_EQ(ignoring_consistency(e.details), ignoring_consistency(details));  // zeros, ""
    EXPECT_EQ(e.details.index(), details_index_for(code));
  }
}

TEST_F(CqlFaults, ErrorWithTimesAppliesThatManyTimesThenNormalAgain) {
  fault once = error_fault("demo.rows", error_code::read_timeout);
  once.times = 1;
  srv_.inject(once);
  EXPECT_EQ(row_count("SELECT * FROM system.local"), 1U);  // not matched: not counted
  EXPECT_EQ(error_of(c().query("SELECT * FROM demo.rows")).code, error_code::read_timeout);
  EXPECT_EQ(row_count("SELECT * FROM demo.rows"), static_cast<std::size_t>(demo_rows));
  EXPECT_EQ(row_count("SELECT * FROM demo.rows"), static_cast<std::size_t>(demo_rows));

  fault twice = error_fault("demo.rows", error_code::unavailable);
  twice.times = 2;
  srv_.inject(twice);
  EXPECT_EQ(error_of(c().query("SELECT * FROM demo.rows")).code, error_code::unavailable);
  EXPECT_EQ(error_of(c().query("SELECT * FROM demo.rows")).code, error_code::unavailable);
  EXPECT_EQ(row_count("SELECT * FROM demo.rows"), static_cast<std::size_t>(demo_rows));
}

TEST_F(CqlFaults, TimesCountsRequestsOfEveryConnection) {
  fault once = error_fault("demo.rows", error_code::overloaded);
  once.times = 1;
  srv_.inject(once);
  client other{port()};
  other.start();
  EXPECT_EQ(error_of(other.query("SELECT * FROM demo.rows")).code, error_code::overloaded);
  EXPECT_EQ(row_count("SELECT * FROM demo.rows"), static_cast<std::size_t>(demo_rows));
}

TEST_F(CqlFaults, AnErrorFromPageKLeavesTheEarlierPagesAlone) {
  fault f = error_fault("demo.rows", error_code::read_timeout);
  f.from_page = 1;
  const std::uint64_t id = srv_.inject(f);
  const rows_result page0 = rows_of(c().query("SELECT id FROM demo.rows", pages_of(4)));
  ASSERT_TRUE(page0.metadata().has_more_pages());
  const query_parameters page1 = pages_of(4, page0.metadata().paging_state);
  EXPECT_EQ(error_of(c().query("SELECT id FROM demo.rows", page1)).code, error_code::read_timeout);
  EXPECT_EQ(error_of(c().query("SELECT id FROM demo.rows", page1)).code, error_code::read_timeout);
  srv_.remove_fault(id);
  // The paging state survives the errors: the same request now gives page 1, then page 2.
  const rows_result retried = rows_of(c().query("SELECT id FROM demo.rows", page1));
  ASSERT_EQ(retried.row_count(), 4U);
  EXPECT_EQ(decode_bigint(retried.cell(0, 0)), 4);
  const rows_result page2 =
      rows_of(c().query("SELECT id FROM demo.rows", pages_of(4, retried.metadata().paging_state)));
  EXPECT_EQ(page2.row_count(), 2U);
  EXPECT_FALSE(page2.metadata().has_more_pages());
}

// ---- delay ----------------------------------------------------------------------------------

TEST_F(CqlFaults, ADelayedResponseIsOvertakenByALaterOne) {
  fault f = fault_of(fault::action::delay, "demo.rows");
  f.delay = 300ms;
  srv_.inject(f);
  bytes both = query(1, "SELECT * FROM demo.rows");
  const bytes later = query(2, "SELECT * FROM system.local");
  both.insert(both.end(), later.begin(), later.end());
  const auto sent = std::chrono::steady_clock::now();
  c().send(both);  // A on stream 1 (delayed), then B on stream 2

  const response first = c().read_response();
  EXPECT_EQ(first.stream, 2);  // B's answer overtakes A's
  EXPECT_EQ(rows_of(first).row_count(), 1U);
  const response second = c().read_response();
  const auto waited = std::chrono::steady_clock::now() - sent;
  EXPECT_EQ(second.stream, 1);  // A's arrives in the end, complete
  EXPECT_EQ(rows_of(second).row_count(), static_cast<std::size_t>(demo_rows));
  EXPECT_GE(waited, 300ms);  // and not before it was due
}

TEST_F(CqlFaults, ADelayWithTimesOneDelaysTheFirstMatchingRequestOfAnyConnection) {
  fault f = fault_of(fault::action::delay, "demo.rows");
  f.delay = 300ms;
  f.times = 1;
  srv_.inject(f);
  bytes both = query(1, "SELECT * FROM demo.rows");
  const bytes options = encode(2, options_request{});
  both.insert(both.end(), options.begin(), options.end());
  c().send(both);
  EXPECT_EQ(c().read_response().stream, 2);  // so request 1 was taken, and delayed

  client other{port()};  // the fault is used up: the other connection is answered at once
  other.start();
  bytes again = query(1, "SELECT * FROM demo.rows");
  const bytes options_again = encode(2, options_request{});
  again.insert(again.end(), options_again.begin(), options_again.end());
  other.send(again);
  const response first = other.read_response();
  EXPECT_EQ(first.stream, 1);  // in request order: nothing delayed here
  EXPECT_EQ(rows_of(first).row_count(), static_cast<std::size_t>(demo_rows));
  EXPECT_EQ(other.read_response().stream, 2);

  const response delayed = c().read_response();
  EXPECT_EQ(delayed.stream, 1);
  EXPECT_EQ(rows_of(delayed).row_count(), static_cast<std::size_t>(demo_rows));
}

// ---- stall ----------------------------------------------------------------------------------

TEST_F(CqlFaults, AStalledRequestIsNeverAnsweredWhileLaterOnesAre) {
  srv_.inject(fault_of(fault::action::stall, "demo.rows"));
  c().send(query(1, "SELECT * FROM demo.rows"));
  c().send(query(2, "SELECT * FROM system.local"));
  const response r2 = c().read_response();
  EXPECT_EQ(r2.stream, 2);
  EXPECT_EQ(rows_of(r2).row_count(), 1U);
  c().send(query(3, "SELECT id FROM demo.rows WHERE id = 1"));  // stalled too
  c().send(encode(4, options_request{}));
  EXPECT_EQ(c().read_response().stream, 4);  // requests are taken in order: 3 was, and stalled
  EXPECT_EQ(srv_.connection_count(), 1U);    // the connection stays open

  srv_.clear_faults();
  c().send(query(5, "SELECT * FROM demo.rows"));
  const response r5 = c().read_response();
  EXPECT_EQ(r5.stream, 5);  // not 1 or 3: those are never answered
  EXPECT_EQ(rows_of(r5).row_count(), static_cast<std::size_t>(demo_rows));

  srv_.stop();
  EXPECT_TRUE(c().closed_by_server());  // no frame for stream 1 or 3 before the end
}

// ---- close_connection -----------------------------------------------------------------------

TEST_F(CqlFaults, CloseConnectionFromPageKClosesWhenPageKIsAsked) {
  fault f = fault_of(fault::action::close_connection, "demo.rows");
  f.from_page = 2;
  srv_.inject(f);
  ASSERT_TRUE(connection_count_becomes(srv_, 1));

  const rows_result page0 = rows_of(c().query("SELECT id FROM demo.rows", pages_of(3)));
  ASSERT_EQ(page0.row_count(), 3U);
  ASSERT_TRUE(page0.metadata().has_more_pages());
  const rows_result page1 =
      rows_of(c().query("SELECT id FROM demo.rows", pages_of(3, page0.metadata().paging_state)));
  ASSERT_EQ(page1.row_count(), 3U);
  EXPECT_EQ(decode_bigint(page1.cell(0, 0)), 3);
  ASSERT_TRUE(page1.metadata().has_more_pages());

  c().send(query(c().next_stream(), "SELECT id FROM demo.rows",
                 pages_of(3, page1.metadata().paging_state)));
  EXPECT_TRUE(c().closed_by_server());  // page 2: no answer, the connection ends
  EXPECT_TRUE(connection_count_becomes(srv_, 0));

  client again{port()};  // the server goes on, and pages 0 and 1 still come
  again.start();
  EXPECT_EQ(rows_of(again.query("SELECT id FROM demo.rows", pages_of(3))).row_count(), 3U);
  EXPECT_EQ(rows_of(again.query("SELECT * FROM system.local")).row_count(), 1U);
}

TEST_F(CqlFaults, CloseConnectionDropsTheRequestsPipelinedAfterIt) {
  srv_.inject(fault_of(fault::action::close_connection, "demo.rows"));
  bytes three = encode(1, options_request{});
  const bytes fatal = query(2, "SELECT * FROM demo.rows");
  const bytes after = encode(3, options_request{});
  three.insert(three.end(), fatal.begin(), fatal.end());
  three.insert(three.end(), after.begin(), after.end());
  c().send(three);
  const response r1 = c().read_response();
  EXPECT_EQ(r1.stream, 1);  // answered before the fault
  EXPECT_TRUE(std::holds_alternative<supported_response>(r1.message));
  EXPECT_TRUE(c().closed_by_server());  // nothing for 2, nor for 3
  EXPECT_TRUE(connection_count_becomes(srv_, 0));
}

// ---- empty_pages ----------------------------------------------------------------------------

TEST_F(CqlFaults, EmptyPagesPrecedeEveryPageWithRows) {
  fault f = fault_of(fault::action::empty_pages, "demo.rows");
  f.empty_pages = 2;
  srv_.inject(f);
  const std::vector<rows_result> pages = fetch_pages(c(), "SELECT id FROM demo.rows", 4);
  EXPECT_EQ(row_counts_of(pages), (std::vector<std::size_t>{0, 0, 4, 0, 0, 4, 0, 0, 2}));
  EXPECT_EQ(ids_of(pages), all_ids());  // every row exactly once, in order
  for (const rows_result& page : pages) {
    EXPECT_EQ(page.column_count(), 1U);  // an empty page still describes its columns
  }
}

TEST_F(CqlFaults, EmptyPagesDefaultToOneAndLeaveUnpagedRequestsAlone) {
  srv_.inject(fault_of(fault::action::empty_pages, "demo.rows"));
  const std::vector<rows_result> pages = fetch_pages(c(), "SELECT id FROM demo.rows", 5);
  EXPECT_EQ(row_counts_of(pages), (std::vector<std::size_t>{0, 5, 0, 5}));
  EXPECT_EQ(ids_of(pages), all_ids());
  const rows_result unpaged = rows_of(c().query("SELECT id FROM demo.rows"));
  EXPECT_EQ(unpaged.row_count(), static_cast<std::size_t>(demo_rows));
  EXPECT_FALSE(unpaged.metadata().has_more_pages());
}

TEST_F(CqlFaults, EmptyPagesFromPageKStartAtPageK) {
  fault f = fault_of(fault::action::empty_pages, "demo.rows");
  f.from_page = 1;
  srv_.inject(f);
  const std::vector<rows_result> pages = fetch_pages(c(), "SELECT id FROM demo.rows", 4);
  EXPECT_EQ(row_counts_of(pages), (std::vector<std::size_t>{4, 0, 4, 0, 2}));
  EXPECT_EQ(ids_of(pages), all_ids());
}

TEST_F(CqlFaults, AtMost255EmptyPagesPrecedeAPage) {
  fault f = fault_of(fault::action::empty_pages, "demo.rows");
  f.empty_pages = 300;  // the paging state counts them in a byte
  srv_.inject(f);
  const std::vector<rows_result> pages =
      fetch_pages(c(), "SELECT id FROM demo.rows WHERE id = 4", 5, {}, 400);
  ASSERT_EQ(pages.size(), 256U);
  EXPECT_EQ(pages[254].row_count(), 0U);
  EXPECT_EQ(ids_of(pages), std::vector<std::int64_t>{4});
}

// ---- malformed_frame ------------------------------------------------------------------------

TEST_F(CqlFaults, AMalformedFrameArrivesOnItsStreamAndDoesNotDecode) {
  srv_.inject(fault_of(fault::action::malformed_frame, "demo.rows"));
  c().send(query(7, "SELECT * FROM demo.rows"));
  std::optional<frame> f = c().read_frame();
  ASSERT_TRUE(f.has_value());
  EXPECT_EQ(f->header.version, response_version);
  EXPECT_EQ(f->header.stream, 7);
  EXPECT_EQ(f->header.op, opcode::result);
  EXPECT_THROW((void)decode_response(std::move(*f)), protocol_error);
  EXPECT_EQ(row_count("SELECT * FROM system.local"), 1U);  // the connection goes on
}

// ---- What a fault matches -------------------------------------------------------------------

TEST_F(CqlFaults, StatementContainsPicksTheStatements) {
  srv_.inject(error_fault("WHERE id = 3", error_code::overloaded));
  EXPECT_EQ(error_of(c().query("SELECT * FROM demo.rows WHERE id = 3")).code,
            error_code::overloaded);
  EXPECT_EQ(row_count("SELECT * FROM demo.rows WHERE id = 4"), 1U);
  EXPECT_EQ(row_count("SELECT * FROM demo.rows"), static_cast<std::size_t>(demo_rows));
}

TEST_F(CqlFaults, AnEmptyStatementContainsMatchesEveryQueryAndExecuteOnly) {
  const auto prepared =
      message_of<prepared_result>(c().prepare("SELECT * FROM demo.rows WHERE id = ?")).id;
  srv_.inject(error_fault("", error_code::overloaded));
  EXPECT_EQ(error_of(c().query("SELECT * FROM system.local")).code, error_code::overloaded);
  EXPECT_EQ(error_of(c().query("USE demo")).code, error_code::overloaded);
  query_parameters id;
  id.values.push_back(query_value::of(std::int64_t{1}));
  EXPECT_EQ(error_of(c().execute(prepared, id)).code, error_code::overloaded);
  // Not OPTIONS, STARTUP, REGISTER nor PREPARE.
  const response options = c().round_trip(40, encode(40, options_request{}));
  EXPECT_TRUE(std::holds_alternative<supported_response>(options.message)) << describe(options);
  const response registered = c().round_trip(41, encode(41, register_request{{"SCHEMA_CHANGE"}}));
  EXPECT_TRUE(std::holds_alternative<ready_response>(registered.message)) << describe(registered);
  const response prepare = c().prepare("SELECT name FROM demo.rows");
  EXPECT_TRUE(std::holds_alternative<prepared_result>(prepare.message)) << describe(prepare);
  client other{port()};
  other.start();  // expects READY: STARTUP is not matched either
}

TEST_F(CqlFaults, FaultsApplyToEveryConnectionFromInjectionOn) {
  client before{port()};
  before.start();
  EXPECT_EQ(rows_of(before.query("SELECT * FROM demo.rows")).row_count(),
            static_cast<std::size_t>(demo_rows));
  srv_.inject(error_fault("demo.rows", error_code::overloaded));
  client after{port()};
  after.start();
  EXPECT_EQ(error_of(before.query("SELECT * FROM demo.rows")).code, error_code::overloaded);
  EXPECT_EQ(error_of(after.query("SELECT * FROM demo.rows")).code, error_code::overloaded);
  EXPECT_EQ(error_of(c().query("SELECT * FROM demo.rows")).code, error_code::overloaded);
}

TEST_F(CqlFaults, TheFirstMatchingFaultInInjectionOrderApplies) {
  const std::uint64_t first = srv_.inject(error_fault("demo", error_code::overloaded));
  srv_.inject(error_fault("demo.rows", error_code::read_timeout));
  EXPECT_EQ(error_of(c().query("SELECT * FROM demo.rows")).code, error_code::overloaded);
  srv_.remove_fault(first);
  EXPECT_EQ(error_of(c().query("SELECT * FROM demo.rows")).code, error_code::read_timeout);
}

TEST_F(CqlFaults, RemoveFaultStopsThatFaultOnly) {
  const std::uint64_t rows_fault = srv_.inject(error_fault("demo.rows", error_code::overloaded));
  const std::uint64_t local_fault =
      srv_.inject(error_fault("system.local", error_code::read_timeout));
  EXPECT_NE(rows_fault, local_fault);
  srv_.remove_fault(rows_fault);
  EXPECT_EQ(row_count("SELECT * FROM demo.rows"), static_cast<std::size_t>(demo_rows));
  EXPECT_EQ(error_of(c().query("SELECT * FROM system.local")).code, error_code::read_timeout);
  srv_.remove_fault(rows_fault);  // unknown ids: nothing happens
  srv_.remove_fault(local_fault + 1000);
  EXPECT_EQ(error_of(c().query("SELECT * FROM system.local")).code, error_code::read_timeout);
  srv_.remove_fault(local_fault);
  EXPECT_EQ(row_count("SELECT * FROM system.local"), 1U);
}

TEST_F(CqlFaults, ClearFaultsStopsEveryFault) {
  srv_.inject(error_fault("demo.rows", error_code::overloaded));
  srv_.inject(fault_of(fault::action::stall, "system.local"));
  srv_.inject(fault_of(fault::action::close_connection, "system.peers"));
  srv_.clear_faults();
  EXPECT_EQ(row_count("SELECT * FROM demo.rows"), static_cast<std::size_t>(demo_rows));
  EXPECT_EQ(row_count("SELECT * FROM system.local"), 1U);
  EXPECT_EQ(row_count("SELECT * FROM system.peers"), 0U);
  const std::uint64_t id = srv_.inject(error_fault("demo.rows", error_code::overloaded));
  EXPECT_EQ(error_of(c().query("SELECT * FROM demo.rows")).code, error_code::overloaded);
  srv_.remove_fault(id);
}

// ---- Faults on EXECUTE ----------------------------------------------------------------------

class CqlFaultsOnExecute : public CqlFaults {
protected:
  void SetUp() override {
    CqlFaults::SetUp();
    id_ = message_of<prepared_result>(c().prepare("SELECT id FROM demo.rows")).id;
    ASSERT_FALSE(id_.empty());
  }

  response execute(const query_parameters& p = {}) { return c().execute(id_, p); }

  std::vector<std::byte> id_;
};

TEST_F(CqlFaultsOnExecute, AnErrorMatchesThePreparedText) {
  srv_.inject(error_fault("demo.rows", error_code::read_timeout));
  EXPECT_EQ(error_of(execute()).code, error_code::read_timeout);
  srv_.clear_faults();
  srv_.inject(error_fault("demo.rows", error_code::unprepared));
  const error_response unprepared = error_of(execute());
  EXPECT_EQ(unprepared.code, error_code::unprepared);
  EXPECT_EQ(unprepared.details, error_details{unprepared_error{id_}});  // the id executed
  srv_.clear_faults();
  EXPECT_EQ(rows_of(execute()).row_count(), static_cast<std::size_t>(demo_rows));
}

TEST_F(CqlFaultsOnExecute, EmptyPages) {
  srv_.inject(fault_of(fault::action::empty_pages, "demo.rows"));
  const std::vector<rows_result> pages =
      fetch_pages([&](const query_parameters& p) { return execute(p); }, 6);
  EXPECT_EQ(row_counts_of(pages), (std::vector<std::size_t>{0, 6, 0, 4}));
  EXPECT_EQ(ids_of(pages), all_ids());
}

TEST_F(CqlFaultsOnExecute, DelayAndStall) {
  fault delay = fault_of(fault::action::delay, "demo.rows");
  delay.delay = 200ms;
  delay.times = 1;
  srv_.inject(delay);
  fault stall = fault_of(fault::action::stall, "demo.rows");
  stall.times = 1;
  srv_.inject(stall);  // after the delay is used up, the next EXECUTE stalls
  c().send(test::execute(1, id_));
  c().send(test::execute(2, id_));
  c().send(query(3, "SELECT * FROM system.local"));
  EXPECT_EQ(c().read_response().stream, 3);
  const response delayed = c().read_response();
  EXPECT_EQ(delayed.stream, 1);  // 2 stalls: never answered
  EXPECT_EQ(rows_of(delayed).row_count(), static_cast<std::size_t>(demo_rows));
  srv_.stop();
  EXPECT_TRUE(c().closed_by_server());
}

TEST_F(CqlFaultsOnExecute, CloseConnectionAndMalformedFrame) {
  srv_.inject(fault_of(fault::action::malformed_frame, "demo.rows"));
  c().send(test::execute(9, id_));
  std::optional<frame> f = c().read_frame();
  ASSERT_TRUE(f.has_value());
  EXPECT_EQ(f->header.stream, 9);
  EXPECT_THROW((void)decode_response(std::move(*f)), protocol_error);

  srv_.clear_faults();
  srv_.inject(fault_of(fault::action::close_connection, "demo.rows"));
  c().send(test::execute(10, id_));
  EXPECT_TRUE(c().closed_by_server());
  EXPECT_TRUE(connection_count_becomes(srv_, 0));
}

}  // namespace
}  // namespace scopekit::cql::test
