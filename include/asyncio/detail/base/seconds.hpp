// Internal: delays and timeouts as seconds (a number) or any std::chrono duration.
#pragma once

#include <chrono>
#include <type_traits>

namespace asyncio::detail {

// A delay or a point in time: seconds as any arithmetic type, or any chrono duration.
template <class D>
concept Seconds = std::is_arithmetic_v<D> || requires(D d) {
    std::chrono::duration_cast<std::chrono::duration<double>>(d);
};
template <Seconds D>
constexpr double to_seconds(D d) noexcept {
    if constexpr (std::is_arithmetic_v<D>)
        return static_cast<double>(d);
    else
        return std::chrono::duration_cast<std::chrono::duration<double>>(d).count();
}

} // namespace asyncio::detail
