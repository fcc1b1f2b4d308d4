// A coroutine object runs nothing until it is awaited; awaited, nested() gives 42.
// Run with ASYNCIO_DEBUG=1 to see the never-awaited coroutine reported.
#include <asyncio.hpp>
#include <iostream>

asyncio::Coro<int> nested() { co_return 42; }

asyncio::Coro<> amain() {
    // Nothing happens if we just call nested(): a coroutine object is created but not
    // awaited, so it won't run at all. (Discarding it outright is a compile-time warning:
    // Coro is [[nodiscard]].)
    { [[maybe_unused]] auto never_awaited = nested(); }

    // Let's do it differently now and await it:
    std::cout << co_await nested() << std::endl; // will print "42".
}

int main() { asyncio::run(amain()); }
