// scopekit/cql/client/exceptions.hpp - what the CQL client throws: an ERROR the server answered,
// typed by its code with the code's extra fields; a connection that could not be made or was lost;
// a value asked for with the wrong type.
//
// Every ERROR becomes a server_error (code(), message, details()); the codes a caller reacts
// to get a subclass of their own, named as the Python driver names them. A protocol violation
// by the server is a protocol_error (scopekit/cql/protocol/error.hpp) and closes the connection; a
// lost or refused connection is a connection_error, given to every request pending on it.
//
//   try {
//     co_await session.execute("SELEC 1");
//   } catch (const scopekit::cql::syntax_exception& e) {   // code 0x2000
//   } catch (const scopekit::cql::server_error& e) {       // any other ERROR: e.code()
//   }
#pragma once

#include "scopekit/cql/protocol/error.hpp"
#include "scopekit/cql/protocol/response.hpp"
#include "scopekit/stopped_error.hpp"

#include <chrono>
#include <exception>
#include <stdexcept>
#include <string>
#include <string_view>

namespace scopekit::cql {

/// An ERROR response (spec §9). what() is "<message> (error 0x2200)".
class server_error : public std::runtime_error {
public:
  explicit server_error(error_response e);

  error_code code() const noexcept { return error_.code; }
  /// The server's message, without the code.
  const std::string& message() const noexcept { return error_.message; }
  /// The code's extra fields (std::monostate for codes without any).
  const error_details& details() const noexcept { return error_.details; }
  const error_response& response() const noexcept { return error_; }

private:
  error_response error_;
};

/// 0x2000: the statement does not parse.
class syntax_exception : public server_error {
  using server_error::server_error;
};
/// 0x2200 Invalid, 0x2300 Config_error, 0x2100 Unauthorized: a valid statement the server refuses.
class invalid_request : public server_error {
  using server_error::server_error;
};
/// 0x2400: the keyspace or table exists; details() holds already_exists_error.
class already_exists : public invalid_request {
  using invalid_request::invalid_request;
};
/// 0x2500: the server does not know the prepared id; details() holds unprepared_error.
class unprepared_exception : public server_error {
  using server_error::server_error;
};
/// 0x1000: not enough replicas alive; details() holds unavailable_error.
class unavailable_exception : public server_error {
  using server_error::server_error;
};
/// 0x1100 / 0x1200 / 0x1300 / 0x1500: replicas did not answer in time or failed; details() says
/// which.
class request_timeout_exception : public server_error {
  using server_error::server_error;
};
/// 0x1001 Overloaded, 0x1002 Is_bootstrapping: try another node or later.
class overloaded_exception : public server_error {
  using server_error::server_error;
};

/// Throws the server_error subclass that `e.code` maps to.
[[noreturn]] void throw_server_error(const error_response& e);
/// The same, as an exception_ptr.
std::exception_ptr make_server_error(const error_response& e);

/// The connection could not be made, was refused during the handshake, or was lost. Every
/// request pending on a lost connection fails with it.
class connection_error : public std::runtime_error {
public:
  using std::runtime_error::runtime_error;
};

/// The server asked for authentication and refused the credentials (ERROR 0x0100: a wrong user
/// or password), or the client had none to give. Trying again with the same credentials cannot
/// succeed, unlike other connection errors.
class authentication_error : public connection_error {
public:
  using connection_error::connection_error;
};

/// The server did not answer a request within its timeout (connection_options::
/// request_timeout, 12 s by default, or a stream's page_timeout); named as the Python
/// driver's OperationTimedOut. what() names the node and the request: "no answer from
/// 10.0.0.5:9042 within 12000 ms to QUERY \"SELECT * FROM ks.t\"". The request is abandoned
/// (its answer is discarded when it comes); the connection stays open. A timeout_error, so
/// that code catching scopekit's deadlines catches it too.
class operation_timed_out : public timeout_error {
public:
  /// `node` is "host:port", `request` what was asked ("QUERY \"...\"", "page 3 of ...").
  operation_timed_out(std::string node, std::chrono::milliseconds timeout,
                      std::string_view request);

  const std::string& node() const noexcept { return node_; }
  std::chrono::milliseconds timeout() const noexcept { return timeout_; }

private:
  std::string node_;
  std::chrono::milliseconds timeout_;
};

namespace detail {
/// `op` and the statement, quoted and cut to 200 characters: `QUERY "SELECT ..."`.
std::string describe_statement(std::string_view op, std::string_view statement);
}  // namespace detail

/// A column read with a type it does not have, or a column that does not exist (row.hpp).
class column_error : public std::logic_error {
public:
  using std::logic_error::logic_error;
};

}  // namespace scopekit::cql
