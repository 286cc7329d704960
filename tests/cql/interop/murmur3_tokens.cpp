// murmur3_tokens - reads one hex-encoded key a line from stdin ("" for the empty key) and prints
// "<murmur3_hash> <murmur3_token>" for each (scopekit/cql/protocol/token.hpp), for
// murmur3_test.py to compare with the Python driver's murmur3.
#include "scopekit/cql/protocol/token.hpp"

#include <cstddef>
#include <cstdio>
#include <iostream>
#include <string>
#include <vector>

namespace {

int hex_value(char c) {
  if (c >= '0' && c <= '9') {
    return c - '0';
  }
  if (c >= 'a' && c <= 'f') {
    return c - 'a' + 10;
  }
  return -1;
}

}  // namespace

int main() {
  std::string line;
  while (std::getline(std::cin, line)) {
    if (line.size() % 2 != 0) {
      std::fprintf(stderr, "odd number of hex digits: %s\n", line.c_str());
      return 2;
    }
    std::vector<std::byte> key;
    for (std::size_t i = 0; i < line.size(); i += 2) {
      const int high = hex_value(line[i]);
      const int low = hex_value(line[i + 1]);
      if (high < 0 || low < 0) {
        std::fprintf(stderr, "not lower-case hex: %s\n", line.c_str());
        return 2;
      }
      key.push_back(static_cast<std::byte>(high * 16 + low));
    }
    std::cout << scopekit::cql::murmur3_hash(key) << ' ' << scopekit::cql::murmur3_token(key)
              << '\n';
  }
  return 0;
}
