// The output of cql-export: POSIX file descriptors, so that every error is seen where it
// happens (ENOSPC on write, EIO on close) and reported with its path; flock() for the lock.
#include "cql_export/output.hpp"

#include "cql_export/concat.hpp"

#include <fcntl.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <array>
#include <cerrno>
#include <cstdio>
#include <filesystem>
#include <random>
#include <system_error>
#include <utility>

namespace scopekit::cql_export {

namespace {

std::string reason(int error) {
  return std::generic_category().message(error);
}

std::string octal_mode(mode_t mode) {
  std::array<char, 8> text{};
  // NOLINTNEXTLINE(cppcoreguidelines-pro-type-vararg): snprintf is the formatter here
  const int n =
      std::snprintf(text.data(), text.size(), "%04o", static_cast<unsigned>(mode & 07777U));
  return {text.data(), n > 0 ? static_cast<std::size_t>(n) : 0};
}

bool same_file(const struct stat& a, const struct stat& b) noexcept {
  return a.st_dev == b.st_dev && a.st_ino == b.st_ino;
}

/// Takes the lock file `lock` for `target` without waiting and returns its descriptor.
/// output_busy if another run holds it. A run that finishes removes the lock file while it
/// still holds it, so a descriptor locked here is kept only if it is still the file at `lock`
/// (otherwise the lock was taken on a removed file, and is taken again).
int take_lock(const std::string& lock, const std::string& target) {
  for (int attempt = 0; attempt < 100; ++attempt) {
    // NOLINTNEXTLINE(cppcoreguidelines-pro-type-vararg): open(2) is variadic
    const int fd = ::open(lock.c_str(), O_RDWR | O_CREAT | O_CLOEXEC, 0666);
    if (fd < 0) {
      const int error = errno;
      throw output_error(concat("cannot create ", lock, ": ", reason(error)));
    }
    if (::flock(fd, LOCK_EX | LOCK_NB) != 0) {
      const int error = errno;
      ::close(fd);
      if (error == EWOULDBLOCK) {
        throw output_busy(
            concat("another cql-export is writing ", target, " (", lock, " is locked)"));
      }
      if (error == EINTR) {
        continue;
      }
      throw output_error(concat("cannot lock ", lock, ": ", reason(error)));
    }
    struct stat held {};
    struct stat current {};
    if (::fstat(fd, &held) == 0 && ::stat(lock.c_str(), &current) == 0 &&
        same_file(held, current)) {
      return fd;
    }
    ::close(fd);
  }
  throw output_error(concat("cannot lock ", lock, ": it keeps being replaced"));
}

/// The files next to `path` whose names start with "<path>.partial", as "<path>.partial...".
std::vector<std::string> partial_files(const std::string& path) {
  namespace fs = std::filesystem;
  const fs::path p{path};
  const std::string prefix = p.filename().string() + ".partial";
  std::vector<std::string> found;
  std::error_code ignored;  // a folder that cannot be listed has nothing to report
  for (fs::directory_iterator it{p.has_parent_path() ? p.parent_path() : fs::path{"."}, ignored},
       end;
       !ignored && it != end; it.increment(ignored)) {
    const std::string name = it->path().filename().string();
    if (name.starts_with(prefix)) {
      found.push_back(path + name.substr(prefix.size() - std::string_view(".partial").size()));
    }
  }
  std::sort(found.begin(), found.end());
  return found;
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
  if (exists && !S_ISREG(info.st_mode)) {  // a device or a FIFO: written in place
    // NOLINTNEXTLINE(cppcoreguidelines-pro-type-vararg): open(2) is variadic
    fd_ = ::open(name_.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0666);
    if (fd_ < 0) {
      const int error = errno;
      throw output_error(concat("cannot create ", name_, ": ", reason(error)));
    }
    owned_ = true;
    return;
  }
  if (exists && ((info.st_mode & 0222U) == 0 || ::access(name_.c_str(), W_OK) != 0)) {
    throw output_error(
        concat(name_, " is read-only (mode ", octal_mode(info.st_mode), "): not replaced"));
  }
  lock_ = name_ + ".lock";
  lock_fd_ = take_lock(lock_, name_);
  try {
    earlier_ = partial_files(name_);
    open_aside();
    if (exists && ::fchmod(fd_, info.st_mode & 0777U) != 0) {
      const int error = errno;
      throw output_error(concat("cannot set the mode of ", partial_, ": ", reason(error)));
    }
  } catch (...) {
    static_cast<void>(abandon(false));  // removes what was created, releases the lock
    throw;
  }
}

/// Creates "<path>.partial.<pid>.<random>", a name no other file has (O_EXCL).
void output::open_aside() {
  std::random_device random;
  const std::string prefix = concat(name_, ".partial.", std::to_string(::getpid()), ".");
  for (int attempt = 0; attempt < 100; ++attempt) {
    std::array<char, 16> suffix{};
    // NOLINTNEXTLINE(cppcoreguidelines-pro-type-vararg): snprintf is the formatter here
    const int n = std::snprintf(suffix.data(), suffix.size(), "%08x", random());
    std::string candidate =
        prefix + std::string(suffix.data(), n > 0 ? static_cast<std::size_t>(n) : 0);
    // NOLINTNEXTLINE(cppcoreguidelines-pro-type-vararg): open(2) is variadic
    fd_ = ::open(candidate.c_str(), O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0666);
    if (fd_ >= 0) {
      owned_ = true;
      partial_ = std::move(candidate);
      return;
    }
    const int error = errno;
    if (error != EEXIST) {
      throw output_error(concat("cannot create ", candidate, ": ", reason(error)));
    }
  }
  throw output_error(concat("cannot create a file named ", prefix, "*: every name tried exists"));
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
  if (partial_.empty()) {
    close_file();
    return;
  }
  struct stat written {};
  if (::fstat(fd_, &written) != 0) {
    const int error = errno;
    throw output_error(concat("cannot check ", partial_, ": ", reason(error)));
  }
  if (static_cast<std::uint64_t>(written.st_size) != bytes_) {
    throw output_error(concat(partial_, " holds ", std::to_string(written.st_size),
                              " bytes where this run wrote ", std::to_string(bytes_),
                              ": another process wrote to it; not renamed"));
  }
  close_file();
  if (std::rename(partial_.c_str(), name_.c_str()) != 0) {
    const int error = errno;
    throw output_error(concat("cannot rename ", partial_, " to ", name_, ": ", reason(error)));
  }
  partial_.clear();
  struct stat now {};
  if (::stat(name_.c_str(), &now) != 0 || !same_file(now, written) ||
      now.st_size != written.st_size) {
    throw output_error(concat(name_,
                              " is not the file this run wrote once renamed: another "
                              "process replaced or changed it"));
  }
  unlock();
}

void output::unlock() noexcept {
  if (lock_fd_ >= 0) {
    // Removed while still held: a run that opened it meanwhile sees, once it gets the lock,
    // that the file is no longer at the path, and takes a new one (take_lock).
    static_cast<void>(::unlink(lock_.c_str()));
    ::close(std::exchange(lock_fd_, -1));
  }
}

std::string output::abandon(bool keep) noexcept {
  try {
    if (owned_ && fd_ >= 0) {
      ::close(std::exchange(fd_, -1));
    }
    std::string fate = bytes_ == 0 ? "nothing written" : "output incomplete";
    if (!partial_.empty()) {
      const std::string partial = std::exchange(partial_, {});  // a second call does nothing
      if (keep) {
        fate = concat("incomplete output kept in ", partial);
      } else {
        static_cast<void>(std::remove(partial.c_str()));  // this run's own file only
        fate = "nothing written";
      }
    }
    unlock();
    return fate;
  } catch (...) {  // std::bad_alloc building the text
    unlock();
    return {};
  }
}

}  // namespace scopekit::cql_export
