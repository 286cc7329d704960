// Tests for cql_export/output.hpp: a file is written as <path>.partial and gets its name only
// on commit; abandon() keeps or removes the .partial file; a full device and a missing directory
// are output_errors that name the path and the reason.
#include "cql_export/output.hpp"

#include "cql_export/concat.hpp"

#include <gtest/gtest.h>

#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <iterator>
#include <string>

namespace scopekit::cql_export {
namespace {

namespace fs = std::filesystem;

std::string read(const fs::path& p) {
  std::ifstream in{p, std::ios::binary};
  return {std::istreambuf_iterator<char>(in), std::istreambuf_iterator<char>()};
}

/// Each test gets a directory of its own, removed afterwards.
class CqlExportOutput : public ::testing::Test {
protected:
  void SetUp() override {
    std::string pattern = (fs::temp_directory_path() / "cql_export_output_XXXXXX").string();
    ASSERT_NE(::mkdtemp(pattern.data()), nullptr);
    dir_ = pattern;
  }
  void TearDown() override {
    std::error_code ignored;
    fs::remove_all(dir_, ignored);
  }

  fs::path dir_;
};

TEST_F(CqlExportOutput, AFileGetsItsNameOnlyWhenCommitted) {
  const fs::path path = dir_ / "rows.csv";
  { std::ofstream{path} << "old complete export\n"; }
  output out{path.string()};
  out.write("id\r\n");
  out.write("1\r\n");
  EXPECT_EQ(read(path), "old complete export\n");  // untouched until commit
  EXPECT_EQ(read(dir_ / "rows.csv.partial"), "id\r\n1\r\n");
  EXPECT_EQ(out.bytes_written(), 7U);
  out.commit();
  EXPECT_EQ(read(path), "id\r\n1\r\n");
  EXPECT_FALSE(fs::exists(dir_ / "rows.csv.partial"));
}

TEST_F(CqlExportOutput, AbandonKeepsThePartialFileOnlyIfAsked) {
  output kept{(dir_ / "a.csv").string()};
  kept.write("id\r\n1\r\n");
  EXPECT_EQ(kept.abandon(true),
            concat("incomplete output kept in ", (dir_ / "a.csv.partial").string()));
  EXPECT_EQ(read(dir_ / "a.csv.partial"), "id\r\n1\r\n");
  EXPECT_FALSE(fs::exists(dir_ / "a.csv"));

  output dropped{(dir_ / "b.csv").string()};
  dropped.write("id\r\n");
  EXPECT_EQ(dropped.abandon(false), "nothing written");
  EXPECT_FALSE(fs::exists(dir_ / "b.csv.partial"));
  EXPECT_FALSE(fs::exists(dir_ / "b.csv"));
}

TEST_F(CqlExportOutput, AFullDeviceIsAnOutputErrorWithTheReason) {
  output out{"/dev/full"};  // a device: written in place, no .partial next to it
  try {
    out.write("x");
    ADD_FAILURE() << "writing to /dev/full succeeded";
  } catch (const output_error& e) {
    EXPECT_STREQ(e.what(), "cannot write /dev/full: No space left on device");
  }
  EXPECT_EQ(out.abandon(false), "nothing written");
}

TEST_F(CqlExportOutput, AMissingDirectoryIsAnOutputErrorNamingThePath) {
  const std::string path = (dir_ / "missing" / "rows.csv").string();
  try {
    const output out{path};
    ADD_FAILURE() << "opened " << path;
  } catch (const output_error& e) {
    EXPECT_EQ(std::string(e.what()),
              concat("cannot create ", path, ".partial: No such file or directory"));
  }
}

TEST_F(CqlExportOutput, StdoutIsNamedStdout) {
  output out{"-"};
  EXPECT_EQ(out.name(), "stdout");
  out.commit();  // nothing to close or rename
}

}  // namespace
}  // namespace scopekit::cql_export
