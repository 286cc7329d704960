// Exit statuses, failure messages and figures of cql-export.
#include "cql_export/report.hpp"

#include "cql_export/concat.hpp"
#include "cql_export/output.hpp"

#include "scopekit/cql/protocol/error.hpp"
#include "scopekit/cql/client/exceptions.hpp"
#include "scopekit/scope_error.hpp"
#include "scopekit/stopped_error.hpp"

#include <sys/resource.h>

#include <algorithm>
#include <array>
#include <charconv>
#include <cstdint>
#include <cstdio>
#include <optional>
#include <string>
#include <string_view>
#include <system_error>
#include <utility>

namespace scopekit::cql_export {

namespace {

failure with_message(int status, std::string_view kind, const std::exception& e) {
  return {status, concat(kind, e.what())};
}

failure classify_current() {
  try {
    throw;
  } catch (const scope_error& e) {
    return classify(e.primary());
  } catch (const stopped_error&) {
    return {exit_status::interrupted, "interrupted"};
  } catch (const output_busy& e) {
    return with_message(exit_status::busy, "output busy: ", e);
  } catch (const output_error& e) {
    return with_message(exit_status::output, "output error: ", e);
  } catch (const query_problem& e) {
    return with_message(exit_status::usage, "", e);
  } catch (const cql::connection_error& e) {
    return with_message(exit_status::connection, "connection error: ", e);
  } catch (const cql::server_error& e) {
    return with_message(exit_status::cql, "CQL error: ", e);
  } catch (const cql::protocol_error& e) {
    return with_message(exit_status::protocol, "protocol error: ", e);
  } catch (const timeout_error& e) {
    return with_message(exit_status::timeout, "timeout: ", e);
  } catch (const std::exception& e) {
    return with_message(exit_status::internal, "error: ", e);
  } catch (...) {
    return {exit_status::internal, "error: an exception not derived from std::exception"};
  }
}

std::string format(const char* spec, double x) {
  std::array<char, 64> buffer{};
  // NOLINTNEXTLINE(cppcoreguidelines-pro-type-vararg): snprintf is the formatter here
  const int n = std::snprintf(buffer.data(), buffer.size(), spec, x);
  return {buffer.data(), n > 0 ? static_cast<std::size_t>(n) : 0};
}

}  // namespace

failure classify(const std::exception_ptr& error) noexcept {
  try {
    try {
      std::rethrow_exception(error);
    } catch (...) {
      return classify_current();
    }
  } catch (...) {  // std::bad_alloc while building the message
    return {exit_status::internal, {}};
  }
}

std::string format_stats(const run_stats& s) {
  const double seconds = s.seconds > 0 ? s.seconds : 0;
  const double rate = seconds > 0 ? static_cast<double>(s.rows) / seconds : 0;
  std::string out = concat(std::to_string(s.rows), " rows, ");
  out += format("%.1f MB, ", static_cast<double>(s.bytes) / 1e6);
  out += format("%.2f s, ", seconds);
  if (rate >= 1e6) {
    out += format("%.1f M rows/s", rate / 1e6);
  } else if (rate >= 1e3) {
    out += format("%.1f k rows/s", rate / 1e3);
  } else {
    out += format("%.0f rows/s", rate);
  }
  return out;
}

std::optional<std::uint64_t> peak_rss_from_status(std::string_view status) {
  constexpr std::string_view label = "VmHWM:";
  while (!status.empty()) {
    const std::size_t eol = std::min(status.find('\n'), status.size());
    std::string_view line = status.substr(0, eol);
    status.remove_prefix(std::min(eol + 1, status.size()));
    if (!line.starts_with(label)) {
      continue;
    }
    line.remove_prefix(std::min(line.find_first_not_of(" \t", label.size()), line.size()));
    std::uint64_t kib = 0;
    const auto [rest, ec] = std::from_chars(line.data(), line.data() + line.size(), kib);
    if (ec != std::errc{} || line.substr(static_cast<std::size_t>(rest - line.data())) != " kB") {
      return std::nullopt;
    }
    return kib * 1024;
  }
  return std::nullopt;
}

std::string format_peak_rss() {
  // VmHWM is this program's own high-water mark; ru_maxrss is not: Linux carries it across
  // exec, so a program started by a large process would report that process's figure.
  std::optional<std::uint64_t> bytes;
  if (std::FILE* f = std::fopen("/proc/self/status", "re"); f != nullptr) {
    std::array<char, 4096> buffer{};
    const std::size_t n = std::fread(buffer.data(), 1, buffer.size(), f);
    std::fclose(f);
    bytes = peak_rss_from_status(std::string_view(buffer.data(), n));
  }
  if (!bytes) {
    rusage usage{};
    if (::getrusage(RUSAGE_SELF, &usage) != 0) {
      return {};
    }
    // Linux reports KiB (macOS reports bytes; this program targets Linux first).
    bytes = static_cast<std::uint64_t>(usage.ru_maxrss) * 1024;
  }
  return format(", peak RSS %.1f MB", static_cast<double>(*bytes) / 1e6);
}

}  // namespace scopekit::cql_export
