// session.cpp - statements to requests, responses to results or exceptions.
#include "scopekit/cql/client/session.hpp"

#include "scopekit/cql/client/exceptions.hpp"

#include <stdexcept>
#include <string>
#include <utility>
#include <variant>

namespace scopekit::cql {
namespace {

query_request to_request(statement s) {
  query_request q;
  q.statement = std::move(s.query);
  q.parameters.consistency = s.consistency;
  q.parameters.values = std::move(s.values);
  return q;
}

execute_request to_request(bound_statement s) {
  execute_request e;
  e.id = s.prepared.id();
  e.parameters.consistency = s.consistency;
  e.parameters.values = std::move(s.values);
  return e;
}

}  // namespace

result::result(response_message message) : message_(std::move(message)) {
  if (auto* rows = std::get_if<rows_result>(&message_)) {
    rows_ = std::move(*rows);
    message_ = rows_result{};  // the rows live in rows_ only
  }
}

row result::row(std::size_t i) const {
  if (i >= rows_.row_count()) {
    throw column_error("row " + std::to_string(i) + " is out of range (the result has " +
                       std::to_string(rows_.row_count()) + " rows)");
  }
  return cql::row{rows_, i};
}

std::optional<row> result::first() const {
  if (rows_.row_count() == 0) {
    return std::nullopt;
  }
  return cql::row{rows_, 0};
}

task<session> session::connect(session_options options) {
  connection_options c;
  c.host = std::move(options.host);
  c.port = options.port;
  c.connect_timeout = options.connect_timeout;
  c.request_timeout = options.request_timeout;
  c.user = std::move(options.user);
  c.password = std::move(options.password);
  session out{co_await connection::connect(std::move(c))};
  if (!options.keyspace.empty()) {
    std::string use = "USE \"";
    for (const char ch : options.keyspace) {
      use += ch;
      if (ch == '"') {
        use += '"';
      }
    }
    use += '"';
    // Named, not a braced temporary in the co_await's operand: GCC 12 destroys such a
    // temporary twice (a double free of its string).
    statement use_keyspace{std::move(use), {}};
    co_await out.execute(std::move(use_keyspace));
  }
  co_return out;
}

void session::check_connected() const {
  if (!connection_) {
    throw std::logic_error("scopekit::cql::session: used after being moved from");
  }
}

session::~session() {
  if (connection_) {
    connection_->close();
  }
}

task<result> session::run(request_message message) {
  check_connected();
  response r = co_await connection_->request(std::move(message));
  if (const auto* e = std::get_if<error_response>(&r.message)) {
    throw_server_error(*e);
  }
  co_return result{std::move(r.message)};
}

task<result> session::execute(statement s) {
  return run(to_request(std::move(s)));
}

task<result> session::execute(bound_statement s) {
  return run(to_request(std::move(s)));
}

task<prepared_statement> session::prepare(std::string query) {
  check_connected();
  request_message message = prepare_request{query};  // named: see connect()
  response r = co_await connection_->request(std::move(message));
  if (const auto* e = std::get_if<error_response>(&r.message)) {
    throw_server_error(*e);
  }
  auto* prepared = std::get_if<prepared_result>(&r.message);
  if (prepared == nullptr) {
    throw protocol_error("result", 0, "PREPARE was answered with another kind of result");
  }
  co_return prepared_statement{std::move(query), std::move(*prepared)};
}

task<row_stream> session::execute_stream(statement s, stream_options options) {
  check_connected();
  std::string what = detail::describe_statement("QUERY", s.query);
  co_return row_stream{detail::start_stream(connection_, to_request(std::move(s)),
                                            std::move(options), std::move(what))};
}

task<row_stream> session::execute_stream(bound_statement s, stream_options options) {
  check_connected();
  std::string what = detail::describe_statement("EXECUTE", s.prepared.query());
  co_return row_stream{detail::start_stream(connection_, to_request(std::move(s)),
                                            std::move(options), std::move(what))};
}

task<void> session::close() {
  if (connection_) {
    connection_->close();
  }
  co_return;
}

}  // namespace scopekit::cql
