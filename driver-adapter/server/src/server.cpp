// server.cpp - scopekit::cql::server: a cluster of one node_server, with a database of its own.
#include "scopekit/cql/server/server.hpp"

#include "node_server.hpp"

#include <algorithm>
#include <memory>
#include <utility>

namespace scopekit::cql {

struct server::state {
  explicit state(server_options options)
      : ring(std::make_shared<const server_detail::topology>(server_detail::single_node_topology(
            std::max<std::size_t>(options.num_tokens, 1), options.token_seed))),
        node(std::move(options), db, ring, 0, node_state) {}

  std::shared_ptr<const server_detail::topology> ring;
  std::shared_ptr<server_detail::database> db = std::make_shared<server_detail::database>();
  std::shared_ptr<server_detail::node_state> node_state =
      std::make_shared<server_detail::node_state>();
  server_detail::node_server node;
};

server::server(server_options options) : state_(std::make_unique<state>(std::move(options))) {}

server::~server() {
  stop();
}

void server::start() {
  state_->node.start();
}

std::uint16_t server::port() const noexcept {
  return state_->node.port();
}

void server::add_synthetic_table(const std::string& keyspace, const std::string& table,
                                 std::int64_t rows) {
  server_detail::add_synthetic_table(*state_->db, keyspace, table, rows);
}

std::uint64_t server::inject(fault f) {
  return state_->node_state->faults.add(std::move(f));
}

void server::remove_fault(std::uint64_t id) {
  state_->node_state->faults.remove(id);
}

void server::clear_faults() {
  state_->node_state->faults.clear();
}

std::size_t server::connection_count() const noexcept {
  return state_->node.connection_count();
}

server_statistics server::statistics() const noexcept {
  return state_->node_state->counters.snapshot();
}

void server::stop() noexcept {
  state_->node.stop();
}

}  // namespace scopekit::cql
