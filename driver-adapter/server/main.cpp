// scopekit-cql-server - the embedded CQL server as a program: listens, prints the address,
// serves until SIGINT or SIGTERM, exits 0.
//
//   scopekit-cql-server --port 0      # prints "listening on 127.0.0.1:<port>"
#include "scopekit/cql/server/server.hpp"

#include <algorithm>
#include <charconv>
#include <csignal>
#include <cstdint>
#include <cstdio>
#include <exception>
#include <iostream>
#include <string>
#include <string_view>
#include <system_error>
#include <vector>

#include <pthread.h>

namespace {

constexpr std::string_view usage =
    "usage: scopekit-cql-server [--port N] [--bind ADDRESS] [--synthetic KS.TABLE=ROWS]...\n"
    "  --port N          TCP port to listen on, 0 (the default) for any free port\n"
    "  --bind ADDRESS    numeric IPv4 or IPv6 address to listen on (default 127.0.0.1)\n"
    "  --synthetic KS.TABLE=ROWS\n"
    "                    add a read-only table KS.TABLE (id bigint PRIMARY KEY, name text,\n"
    "                    payload blob) of ROWS rows computed from the id (no memory per row)\n"
    "Prints \"listening on ADDRESS:PORT\", then serves CQL native protocol v4 until SIGINT or\n"
    "SIGTERM.\n";

constexpr int usage_error = 2;

bool parse_port(std::string_view text, std::uint16_t& port) {
  if (text.empty() || text.size() > 5) {
    return false;
  }
  unsigned value = 0;
  for (const char c : text) {
    if (c < '0' || c > '9') {
      return false;
    }
    value = value * 10 + static_cast<unsigned>(c - '0');
  }
  if (value > 65535) {
    return false;
  }
  port = static_cast<std::uint16_t>(value);
  return true;
}

struct synthetic_table {
  std::string keyspace;
  std::string table;
  std::int64_t rows = 0;
};

bool is_name(std::string_view text) {
  return !text.empty() && text.size() <= 48 && std::all_of(text.begin(), text.end(), [](char c) {
    return (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '_';
  });
}

// KS.TABLE=ROWS, lower-case names (as unquoted CQL names read).
bool parse_synthetic(std::string_view text, synthetic_table& out) {
  const auto dot = text.find('.');
  const auto equals = text.find('=');
  if (dot == std::string_view::npos || equals == std::string_view::npos || equals < dot) {
    return false;
  }
  const std::string_view keyspace = text.substr(0, dot);
  const std::string_view table = text.substr(dot + 1, equals - dot - 1);
  const std::string_view rows = text.substr(equals + 1);
  if (!is_name(keyspace) || !is_name(table) || rows.empty()) {
    return false;
  }
  std::int64_t n = 0;
  const auto [end, ec] = std::from_chars(rows.data(), rows.data() + rows.size(), n);
  if (ec != std::errc{} || end != rows.data() + rows.size() || n < 0) {
    return false;
  }
  out = {std::string(keyspace), std::string(table), n};
  return true;
}

}  // namespace

int main(int argc, char** argv) {
  scopekit::cql::server_options options;
  std::vector<synthetic_table> synthetic;
  for (int i = 1; i < argc; ++i) {
    const std::string_view arg = argv[i];  // NOLINT(*-pointer-arithmetic)
    if (arg == "--help" || arg == "-h") {
      std::cout << usage;
      return 0;
    }
    if (arg != "--port" && arg != "--bind" && arg != "--synthetic") {
      std::cerr << "scopekit-cql-server: unknown argument '" << arg << "' (see --help)\n";
      return usage_error;
    }
    if (i + 1 >= argc) {
      std::cerr << "scopekit-cql-server: " << arg << " needs a value (see --help)\n";
      return usage_error;
    }
    const std::string_view operand = argv[++i];  // NOLINT(*-pointer-arithmetic)
    if (arg == "--port") {
      if (!parse_port(operand, options.port)) {
        std::cerr << "scopekit-cql-server: --port expects a number from 0 to 65535, got '"
                  << operand << "'\n";
        return usage_error;
      }
    } else if (arg == "--synthetic") {
      synthetic_table t;
      if (!parse_synthetic(operand, t)) {
        std::cerr << "scopekit-cql-server: --synthetic expects KEYSPACE.TABLE=ROWS with ROWS a "
                     "number from 0 to 2^63-1, got '"
                  << operand << "'\n";
        return usage_error;
      }
      synthetic.push_back(std::move(t));
    } else {
      options.bind_address = operand;
    }
  }

  // Block the signals in every thread (the server's threads inherit the mask), then wait for
  // them here.
  sigset_t signals;
  sigemptyset(&signals);
  sigaddset(&signals, SIGINT);
  sigaddset(&signals, SIGTERM);
  pthread_sigmask(SIG_BLOCK, &signals, nullptr);

  try {
    scopekit::cql::server srv{options};
    for (const synthetic_table& t : synthetic) {
      srv.add_synthetic_table(t.keyspace, t.table, t.rows);
    }
    srv.start();
    std::cout << "listening on " << options.bind_address << ':' << srv.port() << std::endl;
    int received = 0;
    while (sigwait(&signals, &received) != 0) {
    }
    srv.stop();
  } catch (const std::exception& e) {
    std::cerr << "scopekit-cql-server: " << e.what() << '\n';
    return 1;
  }
  return 0;
}
