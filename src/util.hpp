// Internal helpers shared by the library's sources.
#pragma once

#include <string>
#include <typeinfo>

namespace asyncio::detail {

// A readable name for a type ("std::runtime_error", not "St13runtime_error").
std::string type_name(const std::type_info& t);

} // namespace asyncio::detail
