// Private checks shared by the value decoders (value.cpp, typed_values.cpp): not installed.
#pragma once

#include "scopekit/cql/protocol/buffer.hpp"
#include "scopekit/cql/protocol/error.hpp"

#include <cstddef>
#include <span>
#include <string_view>

namespace scopekit::cql::detail {

/// Throws protocol_error: `v` is null or not set where a `type` value is required.
[[noreturn]] void fail_absent(const value_view& v, const field_path& field, std::string_view type);

/// The bytes of `v`, which must be present and exactly `size` of them.
std::span<const std::byte> fixed_size(const value_view& v, const field_path& field,
                                      std::string_view type, std::size_t size);

/// The bytes of `v`, which must be present (null and not set throw).
std::span<const std::byte> present(const value_view& v, const field_path& field,
                                   std::string_view type);

}  // namespace scopekit::cql::detail
