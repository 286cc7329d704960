// scopekit-cql-server - the embedded CQL server as a program: listens, prints the address,
// serves until SIGINT or SIGTERM, exits 0. With --nodes N, a cluster of N nodes on consecutive
// loopback addresses and one port.
//
//   scopekit-cql-server --port 0      # prints "listening on 127.0.0.1:<port>"
//   scopekit-cql-server --nodes 3 --auth cassandra:cassandra
#include "scopekit/cql/server/cluster.hpp"
#include "scopekit/cql/server/server.hpp"

#include <algorithm>
#include <array>
#include <chrono>
#include <charconv>
#include <csignal>
#include <cstddef>
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
    "usage: scopekit-cql-server [--port N] [--bind ADDRESS] [--nodes N] [--num-tokens N]\n"
    "                           [--token-seed N] [--auth USER:PASSWORD]... [--page-delay MS]\n"
    "                           [--synthetic KS.TABLE=ROWS]...\n"
    "  --port N          TCP port to listen on, 0 (the default) for any free port (with\n"
    "                    --nodes, one that is free on every node's address)\n"
    "  --bind ADDRESS    numeric IPv4 or IPv6 address to listen on (default 127.0.0.1); with\n"
    "                    --nodes, the first node's IPv4 address\n"
    "  --nodes N         a cluster of N nodes (default 1) on ADDRESS, ADDRESS+1, ... (all of\n"
    "                    127.0.0.0/8 is loopback), one port, one copy of the data, each node\n"
    "                    listing the others in system.peers\n"
    "  --num-tokens N    tokens (vnodes) per node on the Murmur3 ring (default 16)\n"
    "  --token-seed N    seed of the tokens and host ids (default 0: the same ring every run)\n"
    "  --auth USER:PASSWORD\n"
    "                    require authentication (PasswordAuthenticator, SASL PLAIN) and let\n"
    "                    this user in; repeat for more users. The password is never printed\n"
    "  --page-delay MS   answer every QUERY and EXECUTE (every page) MS milliseconds late, on\n"
    "                    every node\n"
    "  --synthetic KS.TABLE=ROWS\n"
    "                    add a read-only table KS.TABLE (id bigint PRIMARY KEY, name text,\n"
    "                    payload blob) of ROWS rows computed from the id (no memory per row)\n"
    "Prints \"listening on ADDRESS:PORT\" (one line per node, the first node first), then\n"
    "serves CQL native protocol v4 until SIGINT or SIGTERM.\n";

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

// A decimal number from `min` to `max`.
bool parse_number(std::string_view text, std::uint64_t min, std::uint64_t max,
                  std::uint64_t& out) {
  std::uint64_t n = 0;
  const auto [end, ec] = std::from_chars(text.data(), text.data() + text.size(), n);
  if (ec != std::errc{} || end != text.data() + text.size() || text.empty() || n < min ||
      n > max) {
    return false;
  }
  out = n;
  return true;
}

// USER:PASSWORD, the user not empty (the password may hold colons).
bool parse_credentials(std::string_view text, scopekit::cql::credentials& out) {
  const auto colon = text.find(':');
  if (colon == std::string_view::npos || colon == 0) {
    return false;
  }
  out = {std::string(text.substr(0, colon)), std::string(text.substr(colon + 1))};
  return true;
}

struct settings {
  scopekit::cql::server_options server;
  std::size_t nodes = 1;
  std::uint64_t page_delay_ms = 0;
  std::vector<synthetic_table> synthetic;
};

// Runs `srv` (a server or a cluster) until SIGINT or SIGTERM (blocked in `signals`).
template <class Server>
void serve(Server& srv, const settings& s, const sigset_t& signals,
           const std::vector<std::string>& addresses) {
  for (const synthetic_table& t : s.synthetic) {
    srv.add_synthetic_table(t.keyspace, t.table, t.rows);
  }
  srv.start();
  for (const std::string& address : addresses) {
    std::cout << "listening on " << address << ':' << srv.port() << '\n';
  }
  std::cout << std::flush;
  int received = 0;
  while (sigwait(&signals, &received) != 0) {
  }
  srv.stop();
}

}  // namespace

int main(int argc, char** argv) {
  settings s;
  for (int i = 1; i < argc; ++i) {
    const std::string_view arg = argv[i];  // NOLINT(*-pointer-arithmetic)
    if (arg == "--help" || arg == "-h") {
      std::cout << usage;
      return 0;
    }
    static constexpr std::array<std::string_view, 8> with_value = {
        "--port",   "--bind",       "--synthetic", "--nodes",
        "--auth",   "--page-delay", "--num-tokens", "--token-seed"};
    if (std::find(with_value.begin(), with_value.end(), arg) == with_value.end()) {
      std::cerr << "scopekit-cql-server: unknown argument '" << arg << "' (see --help)\n";
      return usage_error;
    }
    if (i + 1 >= argc) {
      std::cerr << "scopekit-cql-server: " << arg << " needs a value (see --help)\n";
      return usage_error;
    }
    const std::string_view operand = argv[++i];  // NOLINT(*-pointer-arithmetic)
    std::uint64_t number = 0;
    if (arg == "--port") {
      if (!parse_port(operand, s.server.port)) {
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
      s.synthetic.push_back(std::move(t));
    } else if (arg == "--nodes") {
      if (!parse_number(operand, 1, 255, number)) {
        std::cerr << "scopekit-cql-server: --nodes expects a number from 1 to 255, got '"
                  << operand << "'\n";
        return usage_error;
      }
      s.nodes = static_cast<std::size_t>(number);
    } else if (arg == "--num-tokens") {
      if (!parse_number(operand, 1, 1536, number)) {
        std::cerr << "scopekit-cql-server: --num-tokens expects a number from 1 to 1536, got '"
                  << operand << "'\n";
        return usage_error;
      }
      s.server.num_tokens = static_cast<std::size_t>(number);
    } else if (arg == "--token-seed") {
      if (!parse_number(operand, 0, UINT64_MAX, number)) {
        std::cerr << "scopekit-cql-server: --token-seed expects a number from 0 to 2^64-1, got '"
                  << operand << "'\n";
        return usage_error;
      }
      s.server.token_seed = number;
    } else if (arg == "--page-delay") {
      if (!parse_number(operand, 0, 3'600'000, number)) {
        std::cerr << "scopekit-cql-server: --page-delay expects milliseconds from 0 to 3600000, "
                     "got '"
                  << operand << "'\n";
        return usage_error;
      }
      s.page_delay_ms = number;
    } else if (arg == "--auth") {
      scopekit::cql::credentials c;
      if (!parse_credentials(operand, c)) {
        // Not echoed: it holds a password.
        std::cerr << "scopekit-cql-server: --auth expects USER:PASSWORD with a user name\n";
        return usage_error;
      }
      s.server.users.push_back(std::move(c));
    } else {
      s.server.bind_address = operand;
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
    scopekit::cql::fault slow;
    slow.what = scopekit::cql::fault::action::delay;
    slow.delay = std::chrono::milliseconds(s.page_delay_ms);
    if (s.nodes == 1) {
      scopekit::cql::server srv{s.server};
      if (s.page_delay_ms > 0) {
        srv.inject(slow);
      }
      serve(srv, s, signals, {s.server.bind_address});
    } else {
      scopekit::cql::cluster_options options;
      options.nodes = s.nodes;
      options.first_address = s.server.bind_address;
      options.port = s.server.port;
      options.num_tokens = s.server.num_tokens;
      options.token_seed = s.server.token_seed;
      options.node = s.server;
      scopekit::cql::cluster srv{options};
      std::vector<std::string> addresses;
      for (std::size_t n = 0; n < srv.size(); ++n) {
        addresses.push_back(srv.address(n));
        if (s.page_delay_ms > 0) {
          srv.inject(n, slow);
        }
      }
      serve(srv, s, signals, addresses);
    }
  } catch (const std::exception& e) {
    std::cerr << "scopekit-cql-server: " << e.what() << '\n';
    return 1;
  }
  return 0;
}
