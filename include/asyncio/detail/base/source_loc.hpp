// Internal: a call-site location that works with g++ 12 and clang 14 (whose libstdc++ lacks a
// usable std::source_location), built from the compiler builtins.
#pragma once

namespace asyncio::detail {

struct SourceLoc {
    const char* file = "";
    const char* function = "";
    int line = 0;

    static constexpr SourceLoc current(const char* file = __builtin_FILE(),
                                       const char* function = __builtin_FUNCTION(),
                                       int line = __builtin_LINE()) noexcept {
        return SourceLoc{file, function, line};
    }
};

} // namespace asyncio::detail
