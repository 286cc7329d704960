// cluster.cpp - scopekit::cql::cluster: one node_server per node over one database, the
// topology they report, and the restarts of single nodes.
#include "scopekit/cql/server/cluster.hpp"

#include "node_server.hpp"

#include <arpa/inet.h>
#include <netinet/in.h>
#include <cerrno>

#include <algorithm>
#include <array>
#include <cstring>
#include <limits>
#include <stdexcept>
#include <string>
#include <system_error>
#include <utility>

namespace scopekit::cql {
namespace {

// The numeric IPv4 addresses of `count` nodes from `first` up.
std::vector<std::string> node_addresses(const std::string& first, std::size_t count) {
  in_addr parsed{};
  if (::inet_pton(AF_INET, first.c_str(), &parsed) != 1) {
    throw std::invalid_argument("scopekit::cql::cluster: first_address '" + first +
                                "' is not a numeric IPv4 address");
  }
  const std::uint32_t base = ntohl(parsed.s_addr);
  if (count - 1 > std::numeric_limits<std::uint32_t>::max() - base ||
      ((base + (count - 1)) >> 24U) != (base >> 24U)) {
    throw std::invalid_argument("scopekit::cql::cluster: " + std::to_string(count) +
                                " nodes from " + first +
                                " do not fit in its /8 network; start from a lower address");
  }
  std::vector<std::string> out;
  out.reserve(count);
  for (std::size_t i = 0; i < count; ++i) {
    in_addr a{};
    a.s_addr = htonl(base + static_cast<std::uint32_t>(i));
    std::array<char, INET_ADDRSTRLEN> text{};
    ::inet_ntop(AF_INET, &a, text.data(), text.size());
    out.emplace_back(text.data());
  }
  return out;
}

inet_address inet_of(const std::string& text) {
  inet_address out;
  in_addr a{};
  ::inet_pton(AF_INET, text.c_str(), &a);
  std::memcpy(out.bytes.data(), &a, 4);
  out.size = 4;
  return out;
}

}  // namespace

struct cluster::state {
  struct node_slot {
    std::shared_ptr<server_detail::node_state> counters_and_faults =
        std::make_shared<server_detail::node_state>();
    std::unique_ptr<server_detail::node_server> server;  // null while the node is down
  };

  explicit state(cluster_options o) : options(std::move(o)) {
    if (options.nodes == 0) {
      throw std::invalid_argument("scopekit::cql::cluster: a cluster needs at least one node");
    }
    if (options.num_tokens == 0) {
      throw std::invalid_argument("scopekit::cql::cluster: num_tokens must be at least 1");
    }
    addresses = node_addresses(options.first_address, options.nodes);
    auto tokens = server_detail::assign_tokens(options.nodes, options.num_tokens,
                                               options.token_seed);
    server_detail::topology t;
    t.cluster_name = options.cluster_name;
    for (std::size_t i = 0; i < options.nodes; ++i) {
      server_detail::node_identity n;
      n.address = inet_of(addresses[i]);
      n.host_id = server_detail::host_id_for(options.token_seed, i);
      n.data_center = options.data_center;
      n.rack = options.rack;
      n.tokens = std::move(tokens[i]);
      t.nodes.push_back(std::move(n));
    }
    ring = std::make_shared<const server_detail::topology>(std::move(t));
    nodes.resize(options.nodes);
  }

  // Throws std::out_of_range unless `node` is one of the cluster's.
  void check(std::size_t node) const {
    if (node >= nodes.size()) {
      throw std::out_of_range("scopekit::cql::cluster: no node " + std::to_string(node) +
                              " in a cluster of " + std::to_string(nodes.size()));
    }
  }
  node_slot& at(std::size_t node) {
    check(node);
    return nodes[node];
  }
  const node_slot& at(std::size_t node) const {
    check(node);
    return nodes[node];
  }

  // Makes node `i` listen on `p` (0: any free port).
  void open(std::size_t i, std::uint16_t p) {
    server_options o = options.node;
    o.bind_address = addresses[i];
    o.port = p;
    auto server = std::make_unique<server_detail::node_server>(
        std::move(o), db, ring, i, nodes[i].counters_and_faults);
    server->start();
    nodes[i].server = std::move(server);
  }

  void close_all() noexcept {
    for (node_slot& n : nodes) {
      n.server.reset();  // stops it
    }
  }

  cluster_options options;
  std::vector<std::string> addresses;
  std::shared_ptr<server_detail::database> db = std::make_shared<server_detail::database>();
  std::shared_ptr<const server_detail::topology> ring;
  std::vector<node_slot> nodes;
  std::uint16_t port = 0;
  bool started = false;
};

cluster::cluster(cluster_options options)
    : state_(std::make_unique<state>(std::move(options))) {}

cluster::~cluster() {
  stop();
}

void cluster::start() {
  state& s = *state_;
  if (s.started) {
    throw std::logic_error("scopekit::cql::cluster::start: already started");
  }
  // With port 0 the first node picks a free port, which another process may hold on a later
  // node's address: then every node tries again with a new one.
  const int attempts = s.options.port == 0 ? 16 : 1;
  for (int attempt = 1;; ++attempt) {
    try {
      s.open(0, s.options.port);
      const std::uint16_t p = s.nodes[0].server->port();
      for (std::size_t i = 1; i < s.nodes.size(); ++i) {
        s.open(i, p);
      }
      s.port = p;
      s.started = true;
      return;
    } catch (const std::system_error& e) {
      s.close_all();
      if (attempt == attempts || e.code() != std::errc::address_in_use) {
        throw;
      }
    } catch (...) {
      s.close_all();
      throw;
    }
  }
}

std::size_t cluster::size() const noexcept {
  return state_->nodes.size();
}

std::uint16_t cluster::port() const noexcept {
  return state_->port;
}

std::string cluster::address(std::size_t node) const {
  state_->check(node);
  return state_->addresses[node];
}

std::vector<std::int64_t> cluster::tokens(std::size_t node) const {
  state_->check(node);
  return state_->ring->nodes[node].tokens;
}

void cluster::stop_node(std::size_t node) {
  state_->at(node).server.reset();
}

void cluster::start_node(std::size_t node) {
  state& s = *state_;
  if (s.at(node).server || !s.started) {
    return;
  }
  s.open(node, s.port);
}

bool cluster::is_up(std::size_t node) const {
  return state_->at(node).server != nullptr;
}

void cluster::add_synthetic_table(const std::string& keyspace, const std::string& table,
                                  std::int64_t rows) {
  server_detail::add_synthetic_table(*state_->db, keyspace, table, rows);
}

std::uint64_t cluster::inject(std::size_t node, fault f) {
  return state_->at(node).counters_and_faults->faults.add(std::move(f));
}

void cluster::remove_fault(std::size_t node, std::uint64_t id) {
  state_->at(node).counters_and_faults->faults.remove(id);
}

void cluster::clear_faults(std::size_t node) {
  state_->at(node).counters_and_faults->faults.clear();
}

server_statistics cluster::statistics(std::size_t node) const {
  return state_->at(node).counters_and_faults->counters.snapshot();
}

std::size_t cluster::connection_count(std::size_t node) const {
  const auto& server = state_->at(node).server;
  return server ? server->connection_count() : 0;
}

void cluster::stop() noexcept {
  state_->close_all();
}

}  // namespace scopekit::cql
