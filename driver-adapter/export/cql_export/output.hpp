// cql_export/output.hpp - where the rows go: stdout, a device, or a file that only gets its
// name once it is complete.
//
// A regular file (or a path that does not exist yet) is written as "<path>.partial" and
// renamed to <path> by commit(), so that a file at <path> is always a complete export; after
// a failure or an interrupt, abandon() keeps the .partial file if it holds rows, and removes
// it otherwise. stdout ("-"), devices and FIFOs are written in place. Every write is complete
// or throws output_error with the path and the system's reason (ENOSPC: "No space left on
// device"); nothing is buffered here.
//
//   scopekit::cql_export::output out{"rows.csv"};   // creates rows.csv.partial
//   out.write("id,name\r\n");
//   out.commit();                                    // renames it to rows.csv
#pragma once

#include <cstdint>
#include <stdexcept>
#include <string>
#include <string_view>

namespace scopekit::cql_export {

/// The output cannot be created, written, closed or renamed.
class output_error : public std::runtime_error {
public:
  using std::runtime_error::runtime_error;
};

/// An open output. Not copyable, not movable.
class output {
public:
  /// Opens `path` ("-" for stdout) for writing, truncating it. output_error if it cannot.
  explicit output(std::string path);
  /// An output neither committed nor abandoned is abandoned: its .partial file is kept if
  /// anything was written to it, removed otherwise.
  ~output();

  output(const output&) = delete;
  output& operator=(const output&) = delete;
  output(output&&) = delete;
  output& operator=(output&&) = delete;

  /// Writes all of `bytes`, or throws output_error (some may have been written then).
  void write(std::string_view bytes);

  /// The export is complete: closes the file and renames the .partial file to the path.
  /// output_error if closing or renaming fails.
  void commit();

  /// The export is not complete: closes the file, removes the .partial file unless
  /// `keep`, and says what became of the output, for the summary line: "incomplete output
  /// kept in rows.csv.partial", "output incomplete" (stdout, devices) or "nothing written".
  /// A second call leaves the .partial file as the first left it.
  std::string abandon(bool keep) noexcept;

  /// Bytes written so far.
  std::uint64_t bytes_written() const noexcept { return bytes_; }
  /// "stdout", or the path as given.
  const std::string& name() const noexcept { return name_; }

private:
  void close_file();

  std::string name_;
  std::string partial_;  // empty unless written as <path>.partial
  int fd_ = -1;
  bool owned_ = false;  // fd_ is ours to close (not stdout)
  std::uint64_t bytes_ = 0;
};

}  // namespace scopekit::cql_export
