// cql_export/output.hpp - where the rows go: stdout, a device, or a file that only gets its
// name once it is complete, and that no other run can take over.
//
// A regular file (or a path that does not exist yet) is guarded and written aside:
// - a lock: flock() on "<path>.lock", taken without waiting; while one run holds it, another
//   run on the same path is refused with output_busy before it writes anything;
// - a file of the run's own, "<path>.partial.<pid>.<random>" in the same folder (so that the
//   rename is atomic), created with O_EXCL: no other file, and no earlier run's "<path>.partial",
//   is ever truncated, overwritten or removed;
// - commit() checks that the file holds exactly the bytes written, renames it to <path>, and
//   checks that <path> is then that very file (device, inode and size), or throws.
// An existing <path> without any write permission (mode 0444) is refused, not replaced; an
// existing writable one gives its permission bits to the new file. After a failure or an
// interrupt, abandon() keeps the run's file if it holds rows, and removes it otherwise.
// stdout ("-"), devices and FIFOs are written in place. Every write is complete or throws
// output_error with the path and the system's reason; nothing is buffered here.
//
//   scopekit::cql_export::output out{"rows.csv"};   // locks rows.csv.lock, creates its file
//   out.write("id,name\r\n");
//   out.commit();                                    // renamed to rows.csv, lock released
#pragma once

#include <cstdint>
#include <stdexcept>
#include <string>
#include <string_view>
#include <vector>

namespace scopekit::cql_export {

/// The output cannot be created, written, closed or renamed.
class output_error : public std::runtime_error {
public:
  using std::runtime_error::runtime_error;
};

/// Another run holds the output's lock: nothing was written.
class output_busy : public output_error {
public:
  using output_error::output_error;
};

/// An open output. Not copyable, not movable.
class output {
public:
  /// Opens `path` ("-" for stdout) for writing: see the header comment. output_busy if
  /// another run holds the path's lock, output_error if it cannot be opened (or is read-only).
  explicit output(std::string path);
  /// An output neither committed nor abandoned is abandoned: its file is kept if anything was
  /// written to it, removed otherwise.
  ~output();

  output(const output&) = delete;
  output& operator=(const output&) = delete;
  output(output&&) = delete;
  output& operator=(output&&) = delete;

  /// Writes all of `bytes`, or throws output_error (some may have been written then).
  void write(std::string_view bytes);

  /// The export is complete: checks, closes and renames the run's file to the path, checks
  /// the result, releases the lock. output_error if any step fails (the file is then kept
  /// under its own name, or at the path if only the check after the rename failed).
  void commit();

  /// The export is not complete: closes the file, removes it unless `keep`, releases the lock,
  /// and says what became of the output, for the summary line: "incomplete output kept in
  /// rows.csv.partial.4242.1f2e3d4c", "output incomplete" (stdout, devices) or "nothing
  /// written". A second call leaves the file as the first left it.
  std::string abandon(bool keep) noexcept;

  /// Bytes written so far.
  std::uint64_t bytes_written() const noexcept { return bytes_; }
  /// "stdout", or the path as given.
  const std::string& name() const noexcept { return name_; }
  /// The run's own file, empty when written in place (stdout, a device) or once committed.
  const std::string& partial_name() const noexcept { return partial_; }
  /// Files next to the path whose names start with "<path>.partial", other than this run's:
  /// left by earlier runs, kept as they are. Found when the output was opened.
  const std::vector<std::string>& earlier_partials() const noexcept { return earlier_; }

private:
  void open_aside();
  void close_file();
  void unlock() noexcept;

  std::string name_;
  std::string partial_;  // empty unless written aside
  std::string lock_;     // "<path>.lock" while held
  std::vector<std::string> earlier_;
  int fd_ = -1;
  int lock_fd_ = -1;
  bool owned_ = false;  // fd_ is ours to close (not stdout)
  std::uint64_t bytes_ = 0;
};

}  // namespace scopekit::cql_export
