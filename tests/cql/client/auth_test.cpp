// Tests for authentication in scopekit/cql/client (connection_options / session_options::user
// and password) against the embedded server with users: the SASL PLAIN step when the server asks,
// authentication_error when the credentials are refused or missing, and credentials left unused
// by a server that does not ask.
#include "scopekit/cql/client/session.hpp"

#include "support/cql/client_support.hpp"

#include "scopekit/cql/client/exceptions.hpp"
#include "scopekit/cql/server/server.hpp"

#include <gtest/gtest.h>

#include <string>
#include <string_view>
#include <utility>

namespace scopekit::cql::test {
namespace {

bool contains(std::string_view text, std::string_view part) {
  return text.find(part) != std::string_view::npos;
}

// Connects with `o` and reads one row; the error of the connect, if any, propagates.
std::string cluster_name(session_options o) {
  return run_bounded([](session_options opts) -> task<std::string> {
    session s = co_await session::connect(std::move(opts));
    const result r = co_await s.execute("SELECT cluster_name FROM system.local");
    co_return std::string(r.first()->get<std::string_view>(0));
  }(std::move(o)));
}

class CqlClientAuth : public ::testing::Test {
protected:
  CqlClientAuth() : srv_(with_users()) { srv_.start(); }

  static server_options with_users() {
    server_options o;
    o.users = {{"exporter", "export-password"}};
    return o;
  }

  session_options options(std::string user, std::string password) const {
    session_options o;
    o.port = srv_.port();
    o.user = std::move(user);
    o.password = std::move(password);
    return o;
  }

  server srv_;
};

TEST_F(CqlClientAuth, TheRightCredentialsConnect) {
  EXPECT_EQ(cluster_name(options("exporter", "export-password")), "scopekit");
  EXPECT_EQ(srv_.statistics().authentication_failures, 0U);
}

TEST_F(CqlClientAuth, AWrongPasswordIsAnAuthenticationErrorInTheServersWords) {
  try {
    cluster_name(options("exporter", "wrong"));
    FAIL() << "connected with a wrong password";
  } catch (const authentication_error& e) {
    EXPECT_TRUE(contains(e.what(), "Provided username exporter and/or password are incorrect"))
        << e.what();
    EXPECT_FALSE(contains(e.what(), "wrong")) << e.what();  // the password is not repeated
  }
  EXPECT_EQ(srv_.statistics().authentication_failures, 1U);
}

TEST_F(CqlClientAuth, NoCredentialsForAServerThatAsksIsAnAuthenticationError) {
  try {
    cluster_name(options("", ""));
    FAIL() << "connected without credentials";
  } catch (const authentication_error& e) {
    EXPECT_TRUE(contains(e.what(), "requires authentication")) << e.what();
    EXPECT_TRUE(contains(e.what(), "PasswordAuthenticator")) << e.what();
  }
  EXPECT_EQ(srv_.statistics().authentication_failures, 0U);  // nothing was sent
}

TEST(CqlClientWithoutAuth, CredentialsAreUnusedByAServerThatDoesNotAsk) {
  server srv;
  srv.start();
  session_options o;
  o.port = srv.port();
  o.user = "someone";
  o.password = "anything";
  EXPECT_EQ(cluster_name(std::move(o)), "scopekit");
}

}  // namespace
}  // namespace scopekit::cql::test
