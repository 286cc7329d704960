// Exits 0 only if every guard behaved: built against scopekit from outside its tree.
#include <scopekit/scope_exit.hpp>
#include <scopekit/scope_fail.hpp>
#include <scopekit/scope_success.hpp>
#include <scopekit/unique_resource.hpp>

#if defined(SCOPEKIT_CONSUMER_CQL)
#include <scopekit/cql/protocol/frame.hpp>

#include <vector>
#endif

#if defined(SCOPEKIT_CONSUMER_CQL_SERVER)
#include <scopekit/cql/server/server.hpp>
#endif

#include <cstdio>
#include <stdexcept>

int main() {
  int exits = 0;
  int fails = 0;
  int successes = 0;
  int deletes = 0;
  {
    scopekit::scope_exit on_exit{[&]() noexcept { ++exits; }};
    scopekit::scope_success on_success{[&]() noexcept { ++successes; }};
    auto handle = scopekit::make_unique_resource_checked(7, -1, [&](int) noexcept { ++deletes; });
  }
  try {
    scopekit::scope_fail on_fail{[&]() noexcept { ++fails; }};
    throw std::runtime_error("fail");
  } catch (const std::runtime_error&) {
  }
  bool ok = exits == 1 && successes == 1 && deletes == 1 && fails == 1;
#if defined(SCOPEKIT_CONSUMER_CQL)
  {  // the static library links: a header goes out and comes back
    std::vector<std::byte> wire;
    scopekit::cql::byte_writer out(wire);
    scopekit::cql::encode_header(out, {0x04, 0, 7, scopekit::cql::opcode::options, 0});
    ok = ok && scopekit::cql::decode_header(wire).stream == 7;
  }
#endif
#if defined(SCOPEKIT_CONSUMER_CQL_SERVER)
  {  // the server library links and listens
    scopekit::cql::server srv;
    srv.add_synthetic_table("demo", "rows", 10);
    srv.start();
    ok = ok && srv.port() != 0;
    srv.stop();
  }
#endif
  std::printf("consumer: %s\n", ok ? "ok" : "WRONG");
  return ok ? 0 : 1;
}
