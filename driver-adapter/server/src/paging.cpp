// paging.cpp - the paging state's bytes, and the page a request asks for.
#include "paging.hpp"

#include "connection_session.hpp"

#include "scopekit/cql/protocol/buffer.hpp"

#include <algorithm>
#include <array>
#include <limits>

namespace scopekit::cql::server_detail {
namespace {

constexpr std::array<std::byte, 3> paging_magic = {std::byte{'S'}, std::byte{'K'}, std::byte{1}};
constexpr std::size_t paging_header_size = 3 + 4 + 8 + 1 + 1;

}  // namespace

std::vector<std::byte> encode_position(const paging_position& p) {
  std::vector<std::byte> out;
  out.reserve(paging_header_size + (p.after ? p.after->size() : 0));
  byte_writer w{out};
  for (const std::byte b : paging_magic) {
    w.write_byte(std::to_integer<std::uint8_t>(b));
  }
  w.write_int(p.page);
  w.write_long(p.rows);
  w.write_byte(p.empties);
  w.write_byte(p.after ? 1 : 0);
  if (p.after) {
    w.write_raw(*p.after);
  }
  return out;
}

std::optional<paging_position> decode_position(std::span<const std::byte> bytes) {
  if (bytes.size() < paging_header_size ||
      !std::equal(paging_magic.begin(), paging_magic.end(), bytes.begin())) {
    return std::nullopt;
  }
  byte_reader r{bytes.subspan(paging_magic.size())};
  paging_position p;
  p.page = r.read_int("paging_state.page");
  p.rows = r.read_long("paging_state.rows");
  p.empties = r.read_byte("paging_state.empties");
  const std::uint8_t has_key = r.read_byte("paging_state.has_key");
  // The server writes page + 1 and rows + (a page's rows, at most an int) into the next state:
  // values that would overflow are not ones it wrote.
  if (p.page < 0 || p.page == std::numeric_limits<std::int32_t>::max() || p.rows < 0 ||
      p.rows >
          std::numeric_limits<std::int64_t>::max() - std::numeric_limits<std::int32_t>::max() ||
      has_key > 1 || (has_key == 0 && r.remaining() != 0)) {
    return std::nullopt;
  }
  if (has_key == 1) {
    const auto rest = r.read_raw(r.remaining(), "paging_state.key");
    p.after.emplace(rest.begin(), rest.end());
  }
  return p;
}

std::int32_t requested_page(const query_parameters& parameters) noexcept {
  if (!parameters.paging_state || parameters.paging_state->empty()) {
    return 0;
  }
  try {
    const auto p = decode_position(*parameters.paging_state);
    return p ? p->page : 0;
  } catch (...) {
    return 0;
  }
}

}  // namespace scopekit::cql::server_detail
