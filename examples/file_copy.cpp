// A copy that never leaves a half-written file or an open handle behind, whatever fails.
//
// Each resource is owned by a unique_resource; scope_fail removes the partial output only if
// the copy fails; scope_success would commit it. The "file system" is simulated so the
// example runs anywhere and its output is checked by ctest.
#include <scopekit/scope_fail.hpp>
#include <scopekit/scope_success.hpp>
#include <scopekit/unique_resource.hpp>

#include <cstdio>
#include <stdexcept>
#include <string>

namespace {

struct handle {
  std::string name;
};

handle open_file(const std::string& name) {
  std::printf("opened %s\n", name.c_str());
  return handle{name};
}

void close_file(const handle& h) noexcept { std::printf("closed %s\n", h.name.c_str()); }

void copy_file(bool disk_full) {
  auto close = [](const handle& h) noexcept { close_file(h); };
  scopekit::unique_resource in{open_file("input"), close};
  scopekit::unique_resource out{open_file("output"), close};
  scopekit::scope_fail remove_partial{[]() noexcept { std::printf("removed partial output\n"); }};
  scopekit::scope_success report{[]() noexcept { std::printf("copy complete\n"); }};
  if (disk_full) {
    throw std::runtime_error("disk full");
  }
}

}  // namespace

int main() {
  copy_file(/*disk_full=*/false);
  try {
    copy_file(/*disk_full=*/true);
  } catch (const std::exception& e) {
    std::printf("copy failed: %s\n", e.what());
  }
  return 0;
}
