// Test support for the networking tests: bounded awaits.
#pragma once

#include <asyncio.hpp>
#include <type_traits>
#include <utility>

namespace asyncio::testing {

// Every network await of a test is bounded: a hang fails with TimeoutError instead.
template <class T>
Coro<T> bounded(Coro<T> coro, double seconds = 10.0) {
    if constexpr (std::is_void_v<T>)
        co_await asyncio::wait_for(std::move(coro), seconds);
    else
        co_return co_await asyncio::wait_for(std::move(coro), seconds);
}

} // namespace asyncio::testing
