// cql_export/concat.hpp - strings built by appending.
//
// GCC 12 at -O3 reports a false -Wrestrict for "literal" + std::string&& (the libstdc++ insert
// it inlines), which -Werror turns into a broken Release build; concat() appends instead.
//
//   throw output_error(concat("cannot write ", path, ": ", reason));
#pragma once

#include <string>
#include <string_view>

namespace scopekit::cql_export {

/// The parts, each convertible to std::string_view, appended in order.
template <class... Parts>
std::string concat(const Parts&... parts) {
  std::string out;
  out.reserve((std::string_view(parts).size() + ... + 0));
  (out.append(std::string_view(parts)), ...);
  return out;
}

}  // namespace scopekit::cql_export
