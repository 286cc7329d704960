// Tests for cql_export/output.hpp: a file is written under a name of the run's own and gets its
// name only on commit, after a check that it holds what the run wrote; a second run on the path
// is refused while the first holds its lock; earlier runs' files are never touched; abandon()
// keeps or removes the run's file; a read-only file is refused; a full device and a missing
// directory are output_errors that name the path and the reason.
#include "cql_export/output.hpp"

#include "cql_export/concat.hpp"

#include <gtest/gtest.h>

#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <iterator>
#include <string>
#include <vector>

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
  EXPECT_TRUE(out.partial_name().starts_with(path.string() + ".partial."));
  EXPECT_EQ(read(out.partial_name()), "id\r\n1\r\n");
  EXPECT_EQ(out.bytes_written(), 7U);
  const std::string partial = out.partial_name();
  out.commit();
  EXPECT_EQ(read(path), "id\r\n1\r\n");
  EXPECT_FALSE(fs::exists(partial));
  EXPECT_FALSE(fs::exists(path.string() + ".lock"));  // released and removed
}

TEST_F(CqlExportOutput, AbandonKeepsTheRunsFileOnlyIfAsked) {
  output kept{(dir_ / "a.csv").string()};
  kept.write("id\r\n1\r\n");
  const std::string partial = kept.partial_name();
  EXPECT_EQ(kept.abandon(true), concat("incomplete output kept in ", partial));
  EXPECT_EQ(read(partial), "id\r\n1\r\n");
  EXPECT_FALSE(fs::exists(dir_ / "a.csv"));

  output dropped{(dir_ / "b.csv").string()};
  dropped.write("id\r\n");
  const std::string dropped_partial = dropped.partial_name();
  EXPECT_EQ(dropped.abandon(false), "nothing written");
  EXPECT_FALSE(fs::exists(dropped_partial));
  EXPECT_FALSE(fs::exists(dir_ / "b.csv"));
  EXPECT_FALSE(fs::exists(dir_ / "b.csv.lock"));
}

TEST_F(CqlExportOutput, TwoRunsCannotHoldOnePathAtOnce) {
  const std::string path = (dir_ / "rows.csv").string();
  output first{path};
  first.write("first\n");
  try {
    const output second{path};
    ADD_FAILURE() << "a second output on " << path << " was opened";
  } catch (const output_busy& e) {
    EXPECT_EQ(std::string(e.what()),
              concat("another cql-export is writing ", path, " (", path, ".lock is locked)"));
  }
  EXPECT_EQ(read(first.partial_name()), "first\n");  // the refused run touched nothing
  first.commit();
  output third{path};  // free again once the first is done
  third.write("third\n");
  third.commit();
  EXPECT_EQ(read(path), "third\n");
}

TEST_F(CqlExportOutput, EachRunWritesAFileOfItsOwnAndEarlierOnesAreKept) {
  const fs::path path = dir_ / "rows.csv";
  { std::ofstream{path.string() + ".partial"} << "an interrupted run's rows\n"; }
  std::string abandoned;
  {
    output interrupted{path.string()};
    interrupted.write("x\n");
    abandoned = interrupted.partial_name();
    static_cast<void>(interrupted.abandon(true));
  }
  output out{path.string()};
  EXPECT_NE(out.partial_name(), abandoned);
  EXPECT_EQ(out.earlier_partials(),
            (std::vector<std::string>{path.string() + ".partial", abandoned}));
  out.write("y\n");
  static_cast<void>(out.abandon(false));
  EXPECT_EQ(read(path.string() + ".partial"), "an interrupted run's rows\n");
  EXPECT_EQ(read(abandoned), "x\n");
}

TEST_F(CqlExportOutput, CommitRefusesAFileSomeoneElseWroteTo) {
  const fs::path path = dir_ / "rows.csv";
  output out{path.string()};
  out.write("1\r\n");
  { std::ofstream{out.partial_name(), std::ios::app} << "not ours\n"; }
  const std::string partial = out.partial_name();
  try {
    out.commit();
    ADD_FAILURE() << "committed a file another process wrote to";
  } catch (const output_error& e) {
    EXPECT_EQ(std::string(e.what()),
              concat(partial,
                     " holds 12 bytes where this run wrote 3: another process wrote "
                     "to it; not renamed"));
  }
  EXPECT_FALSE(fs::exists(path));
}

TEST_F(CqlExportOutput, AReadOnlyFileIsRefusedAndAWritableOneKeepsItsMode) {
  const fs::path locked = dir_ / "locked.csv";
  { std::ofstream{locked} << "keep me\n"; }
  fs::permissions(locked, fs::perms::owner_read | fs::perms::group_read);
  try {
    const output out{locked.string()};
    ADD_FAILURE() << "opened read-only " << locked;
  } catch (const output_error& e) {
    EXPECT_EQ(std::string(e.what()),
              concat(locked.string(), " is read-only (mode 0440): not replaced"));
  }
  EXPECT_EQ(read(locked), "keep me\n");

  const fs::path owner_only = dir_ / "private.csv";
  { std::ofstream{owner_only} << "old\n"; }
  fs::permissions(owner_only, fs::perms::owner_read | fs::perms::owner_write);
  output out{owner_only.string()};
  out.write("new\n");
  out.commit();
  EXPECT_EQ(read(owner_only), "new\n");
  EXPECT_EQ(fs::status(owner_only).permissions() & fs::perms::all,
            fs::perms::owner_read | fs::perms::owner_write);
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
              concat("cannot create ", path, ".lock: No such file or directory"));
  }
}

TEST_F(CqlExportOutput, StdoutIsNamedStdout) {
  output out{"-"};
  EXPECT_EQ(out.name(), "stdout");
  out.commit();  // nothing to close or rename
}

}  // namespace
}  // namespace scopekit::cql_export
