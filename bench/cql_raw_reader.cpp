// cql_raw_reader - the leanest CQL client there is, to measure how fast a server streams a table:
// STARTUP, then `SELECT * FROM <table>` with a page size, following the paging states to the
// end. Of each page it reads only the frame header, the Rows metadata (for the paging state) and
// rows_count; the rows are dropped. It checks that the pages added up to the expected number of
// rows and prints one line:
//
//   rows=1000000 pages=200 bytes=133888890 seconds=0.2531 MB/s=529.0
//
// bytes: every byte received after READY (headers, metadata and rows); seconds: from the first
// QUERY sent to the last page received; MB is 10^6 bytes.
//
//   cql_raw_reader HOST PORT ROWS [--page-size N] [--table KS.TABLE] [--where CONDITION]
//   cql_raw_reader --loopback-baseline ROWS [--page-size N]
//
// ROWS may be `any` (no check: a token range's rows, which the caller adds up). --where reads
// `SELECT * FROM KS.TABLE WHERE CONDITION` (a token range: "token(id) > -3 AND token(id) <= 7").
//
// --loopback-baseline measures the same reader without a server: a thread of this process
// writes, over loopback TCP, Rows pages built beforehand, shaped like the server's synthetic
// table (server.hpp: id, "row-<id>", 100 payload bytes) and as many rows, without waiting for
// requests: one page frame sent again and again from the cache, then the last page. It is the
// ceiling for one connection on this machine: reading is identical, the source costs nothing
// but send(), and there are no round trips.
//
// Exit status: 0, or 1 with a message on stderr (connection refused, an ERROR response, a frame
// that does not decode, a row count other than ROWS), 2 for a bad command line.
#include "scopekit/cql/protocol/buffer.hpp"
#include "scopekit/cql/protocol/frame.hpp"
#include "scopekit/cql/protocol/request.hpp"
#include "scopekit/cql/protocol/response.hpp"
#include "scopekit/cql/protocol/rows.hpp"

#include <arpa/inet.h>
#include <netdb.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <sys/socket.h>
#include <unistd.h>
#include <cerrno>

#include <algorithm>
#include <array>
#include <charconv>
#include <chrono>
#include <cstddef>
#include <cstdint>
#include <cstdio>
#include <exception>
#include <iostream>
#include <optional>
#include <span>
#include <stdexcept>
#include <string>
#include <string_view>
#include <system_error>
#include <thread>
#include <utility>
#include <variant>
#include <vector>

namespace {

namespace cql = scopekit::cql;
using bytes = std::vector<std::byte>;

constexpr std::size_t receive_buffer_size = std::size_t{256} * 1024;
constexpr std::int16_t query_stream = 1;

[[noreturn]] void throw_errno(const char* what) {
  throw std::system_error(errno, std::generic_category(), what);
}

/// A connected TCP socket, closed on destruction.
class socket_fd {
public:
  explicit socket_fd(int fd) noexcept : fd_(fd) {}
  socket_fd(const socket_fd&) = delete;
  socket_fd& operator=(const socket_fd&) = delete;
  socket_fd(socket_fd&& other) noexcept : fd_(std::exchange(other.fd_, -1)) {}
  socket_fd& operator=(socket_fd&&) = delete;
  ~socket_fd() {
    if (fd_ >= 0) {
      ::close(fd_);
    }
  }
  int get() const noexcept { return fd_; }

  void send_all(std::span<const std::byte> data) const {
    while (!data.empty()) {
      const ssize_t n = ::send(fd_, data.data(), data.size(), MSG_NOSIGNAL);
      if (n < 0 && errno == EINTR) {
        continue;
      }
      if (n < 0) {
        throw_errno("send");
      }
      data = data.subspan(static_cast<std::size_t>(n));
    }
  }

private:
  int fd_;
};

void set_no_delay(int fd) {
  const int one = 1;
  if (::setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one) != 0) {
    throw_errno("setsockopt(TCP_NODELAY)");
  }
}

socket_fd connect_to(const std::string& host, const std::string& port) {
  addrinfo hints{};
  hints.ai_family = AF_UNSPEC;
  hints.ai_socktype = SOCK_STREAM;
  addrinfo* found = nullptr;
  if (const int rc = ::getaddrinfo(host.c_str(), port.c_str(), &hints, &found); rc != 0) {
    throw std::runtime_error("cannot resolve " + host + ":" + port + ": " + ::gai_strerror(rc));
  }
  int error = 0;
  for (const addrinfo* a = found; a != nullptr; a = a->ai_next) {
    socket_fd s{::socket(a->ai_family, a->ai_socktype, a->ai_protocol)};
    if (s.get() >= 0 && ::connect(s.get(), a->ai_addr, a->ai_addrlen) == 0) {
      ::freeaddrinfo(found);
      set_no_delay(s.get());
      return s;
    }
    error = errno;
  }
  ::freeaddrinfo(found);
  throw std::system_error(error, std::generic_category(), "connect to " + host + ":" + port);
}

/// Receives frames: recv() into a fixed buffer, cut by a frame_splitter.
class frame_reader {
public:
  explicit frame_reader(int fd) : fd_(fd), buffer_(receive_buffer_size) {}

  /// The next frame; std::runtime_error if the peer closes first.
  cql::frame next() {
    for (;;) {
      if (splitter_.has_frame()) {
        return splitter_.take();
      }
      if (pending_.empty()) {
        const ssize_t n = ::recv(fd_, buffer_.data(), buffer_.size(), 0);
        if (n < 0 && errno == EINTR) {
          continue;
        }
        if (n < 0) {
          throw_errno("recv");
        }
        if (n == 0) {
          throw std::runtime_error("the server closed the connection");
        }
        received_ += static_cast<std::uint64_t>(n);
        pending_ = std::span<const std::byte>(buffer_.data(), static_cast<std::size_t>(n));
      }
      pending_ = pending_.subspan(splitter_.feed(pending_));
    }
  }

  std::uint64_t bytes_received() const noexcept { return received_; }

private:
  int fd_;
  bytes buffer_;
  std::span<const std::byte> pending_;
  cql::frame_splitter splitter_;
  std::uint64_t received_ = 0;
};

/// What the reader keeps of a page.
struct page {
  std::int64_t rows = 0;
  std::optional<bytes> paging_state;
};

[[noreturn]] void unexpected(cql::frame f) {
  if (f.header.op == cql::opcode::error) {
    const cql::response r = cql::decode_response(std::move(f));
    const auto& e = std::get<cql::error_response>(r.message);
    std::array<char, 8> code{};
    std::snprintf(code.data(), code.size(), "%04X", static_cast<unsigned>(e.code));
    throw std::runtime_error("the server answered ERROR 0x" + std::string(code.data()) + ": " +
                             e.message);
  }
  throw std::runtime_error("unexpected response opcode " +
                           std::string(cql::to_string(f.header.op)));
}

/// The paging state and rows_count of a RESULT Rows frame; the cells are not looked at.
page read_page(cql::frame&& f) {
  if (f.header.op != cql::opcode::result || f.header.stream != query_stream) {
    unexpected(std::move(f));
  }
  if (f.header.flags != 0) {
    throw std::runtime_error("a RESULT frame with header flags (tracing, warnings or a custom "
                             "payload), which this reader does not skip");
  }
  cql::byte_reader in{f.body};
  if (in.read_int("result.kind") != static_cast<std::int32_t>(cql::result_kind::rows)) {
    throw std::runtime_error("a RESULT that is not Rows");
  }
  cql::result_metadata metadata = cql::read_result_metadata(in, "rows");
  const std::int32_t rows = in.read_int("rows.rows_count");
  if (rows < 0) {
    throw std::runtime_error("a negative rows_count");
  }
  return {rows, std::move(metadata.paging_state)};
}

struct totals {
  std::int64_t rows = 0;
  std::int64_t pages = 0;
  std::uint64_t bytes = 0;
  double seconds = 0;
};

cql::query_parameters page_parameters(std::int32_t page_size, std::optional<bytes> state) {
  cql::query_parameters p;
  p.page_size = page_size;
  p.paging_state = std::move(state);
  return p;
}

bytes encode(cql::request r) {
  bytes out;
  cql::byte_writer w{out};
  cql::encode_request(w, r);
  return out;
}

totals read_table(const std::string& host, const std::string& port, const std::string& table,
                  const std::string& where, std::int32_t page_size) {
  const socket_fd s = connect_to(host, port);
  frame_reader reader{s.get()};
  s.send_all(encode({0, false, {}, cql::startup_request{{{"CQL_VERSION", "3.0.0"}}}}));
  if (cql::frame f = reader.next(); f.header.op != cql::opcode::ready) {
    unexpected(std::move(f));
  }
  const std::uint64_t before = reader.bytes_received();
  const std::string statement =
      "SELECT * FROM " + table + (where.empty() ? std::string() : " WHERE " + where);
  totals t;
  std::optional<bytes> state;
  const auto start = std::chrono::steady_clock::now();
  do {
    cql::query_request q{statement, page_parameters(page_size, std::move(state))};
    s.send_all(encode({query_stream, false, {}, std::move(q)}));
    page p = read_page(reader.next());
    t.rows += p.rows;
    ++t.pages;
    state = std::move(p.paging_state);
  } while (state);
  t.seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
  t.bytes = reader.bytes_received() - before;
  return t;
}

// ---- --loopback-baseline --------------------------------------------------------------------

/// The frame of one page: rows `first` to `end` - 1 shaped like the server's synthetic table,
/// with a paging state as long as the server's (25 bytes) if `more`.
bytes baseline_page(std::int64_t first, std::int64_t end, bool more) {
  const cql::table_spec spec{"demo", "rows"};
  cql::result_metadata metadata;
  metadata.column_count = 3;
  metadata.global_table = spec;
  metadata.columns = {{spec, "id", cql::type_id::bigint},
                      {spec, "name", cql::type_id::varchar},
                      {spec, "payload", cql::type_id::blob}};
  if (more) {
    metadata.paging_state = bytes(25, std::byte{0x5A});
  }
  bytes out;
  cql::byte_writer w{out};
  const std::size_t start =
      cql::begin_frame(w, cql::response_version, 0, query_stream, cql::opcode::result);
  cql::rows_encoder page{w, metadata};
  std::array<std::byte, 100> payload{};
  for (std::int64_t id = first; id < end; ++id) {
    page.add_bigint(id);
    page.add_text("row-" + std::to_string(id));
    for (std::size_t i = 0; i < payload.size(); ++i) {
      payload[i] = static_cast<std::byte>((static_cast<std::uint64_t>(id) * 31 + i) & 0xFFU);
    }
    page.add_cell(payload);
  }
  page.finish();
  cql::end_frame(w, start);
  return out;
}

totals read_baseline(std::int64_t rows, std::int32_t page_size) {
  // Every page but the last is the same frame, sent again and again from a buffer that stays in
  // the cache: the rows of the table's last full page, whose ids are as wide as most of the
  // table's (the bytes differ from the server's by the shorter names of small ids).
  const std::int64_t full_pages = rows == 0 ? 0 : (rows - 1) / page_size;
  const std::int64_t last_first = full_pages * page_size;
  const bytes full = baseline_page(std::max<std::int64_t>(last_first - page_size, 0), last_first,
                                   true);
  const bytes last = baseline_page(last_first, rows, false);

  socket_fd listener{::socket(AF_INET, SOCK_STREAM, 0)};
  sockaddr_in address{};
  address.sin_family = AF_INET;
  address.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  socklen_t size = sizeof address;
  auto* any = reinterpret_cast<sockaddr*>(&address);  // NOLINT(*-reinterpret-cast)
  if (listener.get() < 0 || ::bind(listener.get(), any, size) != 0 ||
      ::listen(listener.get(), 1) != 0 || ::getsockname(listener.get(), any, &size) != 0) {
    throw_errno("loopback listener");
  }

  std::exception_ptr sender_error;
  std::thread sender{[&] {
    try {
      const socket_fd s = connect_to("127.0.0.1", std::to_string(ntohs(address.sin_port)));
      for (std::int64_t i = 0; i < full_pages; ++i) {
        s.send_all(full);
      }
      s.send_all(last);
    } catch (...) {
      sender_error = std::current_exception();
    }
  }};
  const socket_fd s{::accept(listener.get(), nullptr, nullptr)};
  if (s.get() < 0) {
    sender.join();
    throw_errno("accept");
  }
  set_no_delay(s.get());
  frame_reader reader{s.get()};
  totals t;
  const auto start = std::chrono::steady_clock::now();
  try {
    for (;;) {
      page p = read_page(reader.next());
      t.rows += p.rows;
      ++t.pages;
      if (!p.paging_state) {
        break;
      }
    }
  } catch (...) {
    sender.join();
    throw;
  }
  t.seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
  t.bytes = reader.bytes_received();
  sender.join();
  if (sender_error) {
    std::rethrow_exception(sender_error);
  }
  return t;
}

// ---- Command line -------------------------------------------------------------------------

constexpr std::string_view usage =
    "usage: cql_raw_reader HOST PORT ROWS [--page-size N] [--table KS.TABLE] [--where COND]\n"
    "       cql_raw_reader --loopback-baseline ROWS [--page-size N]\n"
    "  Pages through `SELECT * FROM KS.TABLE [WHERE COND]` (default demo.rows, page size 5000),\n"
    "  dropping the rows; checks that there were ROWS rows (not checked if ROWS is `any`) and\n"
    "  prints rows, pages, bytes, seconds, MB/s.\n"
    "  --loopback-baseline: the same reader fed pre-built pages by a thread of its own.\n";

template <class Int>
bool parse_number(std::string_view text, Int& out, Int min) {
  const auto [end, ec] = std::from_chars(text.data(), text.data() + text.size(), out);
  return ec == std::errc{} && end == text.data() + text.size() && out >= min;
}

}  // namespace

int main(int argc, char** argv) {
  const std::vector<std::string_view> args(argv + 1, argv + argc);  // NOLINT(*-pointer-arithmetic)
  std::vector<std::string_view> positional;
  bool baseline = false;
  std::int32_t page_size = 5000;
  std::string table = "demo.rows";
  std::string where;
  for (std::size_t i = 0; i < args.size(); ++i) {
    if (args[i] == "--help" || args[i] == "-h") {
      std::cout << usage;
      return 0;
    }
    if (args[i] == "--loopback-baseline") {
      baseline = true;
    } else if ((args[i] == "--page-size" || args[i] == "--table" || args[i] == "--where") &&
               i + 1 < args.size()) {
      const std::string_view value = args[++i];
      if (args[i - 1] == "--table") {
        table = value;
      } else if (args[i - 1] == "--where") {
        where = value;
      } else if (!parse_number(value, page_size, std::int32_t{1})) {
        std::cerr << "cql_raw_reader: --page-size expects a positive number\n" << usage;
        return 2;
      }
    } else if (args[i].starts_with("--")) {
      std::cerr << "cql_raw_reader: unknown option or missing value: " << args[i] << '\n' << usage;
      return 2;
    } else {
      positional.push_back(args[i]);
    }
  }
  std::int64_t expected = 0;
  const bool any_rows = !baseline && !positional.empty() && positional.back() == "any";
  if (positional.size() != (baseline ? 1U : 3U) ||
      (!any_rows && !parse_number(positional.back(), expected, std::int64_t{0}))) {
    std::cerr << usage;
    return 2;
  }

  try {
    const totals t = baseline ? read_baseline(expected, page_size)
                              : read_table(std::string(positional[0]), std::string(positional[1]),
                                           table, where, page_size);
    if (!any_rows && t.rows != expected) {
      std::cerr << "cql_raw_reader: read " << t.rows << " rows in " << t.pages
                << " pages, expected " << expected << '\n';
      return 1;
    }
    std::printf("rows=%lld pages=%lld bytes=%llu seconds=%.4f MB/s=%.1f\n",
                static_cast<long long>(t.rows), static_cast<long long>(t.pages),
                static_cast<unsigned long long>(t.bytes), t.seconds,
                static_cast<double>(t.bytes) / 1e6 / t.seconds);
  } catch (const std::exception& e) {
    std::cerr << "cql_raw_reader: " << e.what() << '\n';
    return 1;
  }
  return 0;
}
