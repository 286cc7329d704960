// Tests for authentication in scopekit/cql/server/server.hpp (server_options::users): the
// handshake Cassandra's PasswordAuthenticator runs (STARTUP, AUTHENTICATE, AUTH_RESPONSE with
// SASL PLAIN, AUTH_SUCCESS or ERROR 0x0100), and what a connection that has not authenticated
// gets (nothing but errors).
#include "scopekit/cql/server/server.hpp"

#include "support/cql/test_client.hpp"
#include "support/cql/vectors.hpp"

#include "scopekit/cql/protocol/error.hpp"
#include "scopekit/cql/protocol/request.hpp"
#include "scopekit/cql/protocol/response.hpp"

#include <gtest/gtest.h>

#include <cstddef>
#include <cstdint>
#include <optional>
#include <string>
#include <variant>
#include <vector>

namespace scopekit::cql::test {
namespace {

constexpr std::string_view password_authenticator =
    "org.apache.cassandra.auth.PasswordAuthenticator";

bytes auth_response(std::int16_t stream, std::optional<bytes> token) {
  return encode(stream, auth_response_request{std::move(token)});
}

class CqlServerAuth : public ::testing::Test {
protected:
  CqlServerAuth() : srv_(options()) { srv_.start(); }

  static server_options options() {
    server_options o;
    o.users = {{"cassandra", "s3cret:with colon"}, {"reader", "r"}};
    return o;
  }

  std::uint16_t port() const { return srv_.port(); }

  // STARTUP on `c`, which must be answered AUTHENTICATE.
  static void expect_authenticate(client& c) {
    const response r = c.round_trip(0, startup(0));
    const auto* a = std::get_if<authenticate_response>(&r.message);
    ASSERT_NE(a, nullptr) << describe(r);
    EXPECT_EQ(a->authenticator, password_authenticator);
  }

  server srv_;
};

TEST_F(CqlServerAuth, StartupIsAnsweredAuthenticateNamingThePasswordAuthenticator) {
  client c{port()};
  expect_authenticate(c);
}

TEST_F(CqlServerAuth, RightCredentialsGetAuthSuccessAndThenQueriesAreServed) {
  for (const auto& [user, password] :
       std::vector<std::pair<std::string, std::string>>{{"cassandra", "s3cret:with colon"},
                                                        {"reader", "r"}}) {
    SCOPED_TRACE(user);
    client c{port()};
    expect_authenticate(c);
    const response r = c.round_trip(1, auth_response(1, plain_sasl_token(user, password)));
    const auto* success = std::get_if<auth_success_response>(&r.message);
    ASSERT_NE(success, nullptr) << describe(r);
    EXPECT_FALSE(success->token.has_value());  // PasswordAuthenticator's final token is null
    const response rows = c.query("SELECT key FROM system.local");
    EXPECT_EQ(rows_of(rows).row_count(), 1U);
  }
}

TEST_F(CqlServerAuth, AnAuthorizationIdentityBeforeTheUserIsIgnored) {
  client c{port()};
  expect_authenticate(c);
  bytes token = str("someone-else");
  const bytes plain = plain_sasl_token("reader", "r");
  token.insert(token.end(), plain.begin(), plain.end());
  const response r = c.round_trip(1, auth_response(1, token));
  EXPECT_TRUE(std::holds_alternative<auth_success_response>(r.message)) << describe(r);
}

TEST_F(CqlServerAuth, WrongCredentialsGetBadCredentialsInCassandrasWordsAndMayRetry) {
  client c{port()};
  expect_authenticate(c);
  for (const auto& [user, password] : std::vector<std::pair<std::string, std::string>>{
           {"cassandra", "wrong"}, {"nobody", "s3cret:with colon"}, {"reader", ""}}) {
    SCOPED_TRACE(user);
    const response r = c.round_trip(2, auth_response(2, plain_sasl_token(user, password)));
    const error_response e = error_of(r);
    EXPECT_EQ(e.code, error_code::authentication_error);
    EXPECT_EQ(e.message, "Provided username " + user + " and/or password are incorrect");
  }
  // Still not authenticated: a query is refused.
  EXPECT_EQ(error_of(c.query("SELECT key FROM system.local")).code, error_code::protocol_error);
  const response again = c.round_trip(3, auth_response(3, plain_sasl_token("reader", "r")));
  EXPECT_TRUE(std::holds_alternative<auth_success_response>(again.message)) << describe(again);
  EXPECT_EQ(srv_.statistics().authentication_failures, 3U);
}

TEST_F(CqlServerAuth, MalformedTokensAreBadCredentialsToo) {
  client c{port()};
  expect_authenticate(c);
  const std::vector<std::pair<std::optional<bytes>, std::string>> cases = {
      {std::nullopt, "Password must not be null"},
      {bytes{}, "Password must not be null"},
      {str("no separators"), "Password must not be null"},
      {cat({str("user-only"), b({0x00}), str("password")}), "Authentication ID must not be null"},
  };
  std::int16_t stream = 1;
  for (const auto& [token, message] : cases) {
    SCOPED_TRACE(message);
    const response r = c.round_trip(stream, auth_response(stream, token));
    ++stream;
    const error_response e = error_of(r);
    EXPECT_EQ(e.code, error_code::authentication_error);
    EXPECT_EQ(e.message, message);
  }
}

TEST_F(CqlServerAuth, AConnectionThatSkipsAuthenticationGetsOnlyErrors) {
  client c{port()};
  expect_authenticate(c);
  const std::vector<bytes> requests = {
      query(4, "SELECT * FROM system.local"), prepare(4, "SELECT * FROM system.local"),
      encode(4, options_request{}), encode(4, register_request{{"SCHEMA_CHANGE"}}),
      startup(4)};
  for (const bytes& request : requests) {
    const response r = c.round_trip(4, request);
    const error_response e = error_of(r);
    EXPECT_EQ(e.code, error_code::protocol_error);
    EXPECT_NE(e.message.find("expecting SASL_RESPONSE"), std::string::npos) << e.message;
  }
  EXPECT_EQ(srv_.statistics().statements, 0U);
  // The connection is still usable: it can authenticate now.
  const response r = c.round_trip(5, auth_response(5, plain_sasl_token("reader", "r")));
  EXPECT_TRUE(std::holds_alternative<auth_success_response>(r.message)) << describe(r);
}

TEST_F(CqlServerAuth, AuthResponseBeforeStartupOrAfterSuccessIsAProtocolError) {
  client c{port()};
  const error_response before =
      error_of(c.round_trip(1, auth_response(1, plain_sasl_token("reader", "r"))));
  EXPECT_EQ(before.code, error_code::protocol_error);
  EXPECT_EQ(before.message, "Unexpected message AUTH_RESPONSE, expecting STARTUP or OPTIONS");
  expect_authenticate(c);
  (void)c.round_trip(2, auth_response(2, plain_sasl_token("reader", "r")));
  const error_response after =
      error_of(c.round_trip(3, auth_response(3, plain_sasl_token("reader", "r"))));
  EXPECT_EQ(after.code, error_code::protocol_error);
}

TEST_F(CqlServerAuth, NoResponseEverHoldsThePassword) {
  client c{port()};
  expect_authenticate(c);
  const std::string password = "a-password-never-echoed";
  c.send(auth_response(6, plain_sasl_token("cassandra", password)));
  const std::optional<frame> f = c.read_frame();
  ASSERT_TRUE(f.has_value());
  const std::string body(reinterpret_cast<const char*>(f->body.data()),  // NOLINT
                         f->body.size());
  EXPECT_EQ(body.find(password), std::string::npos);
}

TEST(CqlServerWithoutAuth, StartupIsAnsweredReadyAndAuthResponseIsAProtocolError) {
  server srv;
  srv.start();
  client c{srv.port()};
  c.start();
  const error_response e =
      error_of(c.round_trip(1, auth_response(1, plain_sasl_token("cassandra", "cassandra"))));
  EXPECT_EQ(e.code, error_code::protocol_error);
}

}  // namespace
}  // namespace scopekit::cql::test
