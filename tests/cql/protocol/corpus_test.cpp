// The fuzzers' seed corpora (tests/fuzz/corpus/<fuzzer>/<vector>) hold exactly the codec tests'
// byte vectors. Run with SCOPEKIT_UPDATE_CORPUS=1 in the environment to (re)write them after
// changing vectors.hpp.
#include "support/cql/vectors.hpp"

#include <gtest/gtest.h>

#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <iterator>
#include <string>
#include <vector>

namespace {

namespace fs = std::filesystem;
namespace vectors = scopekit::cql::test;
using vectors::bytes;

struct seed {
  std::string fuzzer;
  std::string name;
  bytes data;
};

std::vector<seed> seeds() {
  std::vector<seed> out;
  // frame_fuzzer reads a byte stream: one frame per file, and one stream of several frames.
  bytes stream;
  for (const auto& v : vectors::request_bodies) {
    bytes f = vectors::frame_bytes(0x04, 0x00, 1, v.opcode, *v.body);
    stream.insert(stream.end(), f.begin(), f.end());
    out.push_back({"frame_fuzzer", std::string("request_") + v.name, std::move(f)});
  }
  for (const auto& v : vectors::all_response_bodies()) {
    out.push_back({"frame_fuzzer", std::string("response_") + v.name,
                   vectors::frame_bytes(0x84, 0x00, 1, v.opcode, *v.body)});
  }
  out.push_back({"frame_fuzzer", "stream_of_requests", stream});
  // A response with tracing id and warnings before a Rows result.
  out.push_back({"frame_fuzzer", "response_rows_with_extras",
                 vectors::frame_bytes(
                     0x84, 0x0A, 7, 0x08,
                     vectors::cat({bytes(16, std::byte{0x42}), vectors::b({0x00, 0x01, 0x00, 0x01}),
                                   vectors::str("w"), vectors::rows_global_body}))});
  // rows_fuzzer reads one RESULT body of kind Rows.
  for (const auto& v : vectors::rows_bodies) {
    out.push_back({"rows_fuzzer", v.name, *v.body});
  }
  return out;
}

fs::path corpus_dir() {
  return fs::path(SCOPEKIT_SOURCE_DIR) / "tests" / "fuzz" / "corpus";
}

bytes read_file(const fs::path& path) {
  std::ifstream in(path, std::ios::binary);
  const std::vector<char> chars((std::istreambuf_iterator<char>(in)),
                                std::istreambuf_iterator<char>());
  bytes out;
  out.reserve(chars.size());
  for (const char c : chars) {
    out.push_back(static_cast<std::byte>(c));
  }
  return out;
}

TEST(FuzzCorpus, HoldsEveryTestVector) {
  const char* flag = std::getenv("SCOPEKIT_UPDATE_CORPUS");
  const bool update = flag != nullptr && std::string(flag) == "1";
  for (const seed& s : seeds()) {
    const fs::path path = corpus_dir() / s.fuzzer / s.name;
    if (update) {
      fs::create_directories(path.parent_path());
      std::ofstream out(path, std::ios::binary | std::ios::trunc);
      out.write(reinterpret_cast<const char*>(s.data.data()),  // NOLINT(*-reinterpret-cast)
                static_cast<std::streamsize>(s.data.size()));
      ASSERT_TRUE(out.good()) << path;
    }
    ASSERT_TRUE(fs::exists(path)) << path << " is missing: run with SCOPEKIT_UPDATE_CORPUS=1";
    EXPECT_EQ(read_file(path), s.data) << path << " differs from the test vector";
  }
}

}  // namespace
