// The output of cql-export: POSIX file descriptors, so that every error is seen where it
// happens (ENOSPC on write, EIO on close) and reported with its path.
#include "cql_export/output.hpp"

#include "cql_export/concat.hpp"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cstdio>
#include <system_error>
#include <utility>

namespace scopekit::cql_export {

namespace {

std::string reason(int error) {
  return std::generic_category().message(error);
}

}  // namespace

output::output(std::string path) : name_(std::move(path)) {
  if (name_ == "-") {
    name_ = "stdout";
    fd_ = STDOUT_FILENO;
    return;
  }
  struct stat info {};
  const bool exists = ::stat(name_.c_str(), &info) == 0;
  std::string target = name_;
  if (!exists || S_ISREG(info.st_mode)) {
    partial_ = name_ + ".partial";
    target = partial_;
  }
  // NOLINTNEXTLINE(cppcoreguidelines-pro-type-vararg): open(2) is variadic
  fd_ = ::open(target.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0666);
  if (fd_ < 0) {
    const int error = errno;
    throw output_error(concat("cannot create ", target, ": ", reason(error)));
  }
  owned_ = true;
}

output::~output() {
  static_cast<void>(abandon(bytes_ > 0));
}

void output::write(std::string_view bytes) {
  while (!bytes.empty()) {
    const ssize_t n = ::write(fd_, bytes.data(), bytes.size());
    if (n < 0) {
      const int error = errno;
      if (error == EINTR) {
        continue;
      }
      throw output_error(
          concat("cannot write ", partial_.empty() ? name_ : partial_, ": ", reason(error)));
    }
    bytes_ += static_cast<std::uint64_t>(n);
    bytes.remove_prefix(static_cast<std::size_t>(n));
  }
}

void output::close_file() {
  if (!owned_ || fd_ < 0) {
    return;
  }
  const int fd = std::exchange(fd_, -1);
  if (::close(fd) != 0) {
    const int error = errno;
    throw output_error(
        concat("cannot close ", partial_.empty() ? name_ : partial_, ": ", reason(error)));
  }
}

void output::commit() {
  close_file();
  if (!partial_.empty()) {
    if (std::rename(partial_.c_str(), name_.c_str()) != 0) {
      const int error = errno;
      throw output_error(concat("cannot rename ", partial_, " to ", name_, ": ", reason(error)));
    }
    partial_.clear();
  }
}

std::string output::abandon(bool keep) noexcept {
  try {
    if (owned_ && fd_ >= 0) {
      ::close(std::exchange(fd_, -1));
    }
    if (!partial_.empty()) {
      const std::string partial = std::exchange(partial_, {});  // a second call does nothing
      if (keep) {
        return concat("incomplete output kept in ", partial);
      }
      static_cast<void>(std::remove(partial.c_str()));
      return "nothing written";
    }
    return bytes_ == 0 ? "nothing written" : "output incomplete";
  } catch (...) {  // std::bad_alloc building the text
    return {};
  }
}

}  // namespace scopekit::cql_export
