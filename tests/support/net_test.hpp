// Test support for the networking tests: bounded awaits.
#pragma once

#include <asyncio.hpp>
#include <utility>

namespace asyncio::testing {

// Every network await of a test is bounded: a hang fails with TimeoutError instead.
template <class T>
Coro<T> bounded(Coro<T> coro, double seconds = 10.0) {
    co_return co_await asyncio::wait_for(std::move(coro), seconds);
}

} // namespace asyncio::testing
