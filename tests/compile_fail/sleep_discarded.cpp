// expect: sleep\(\) does nothing until it is awaited
// asyncio::sleep(1) without co_await does nothing: rejected, not silently ignored.
#include <asyncio.hpp>

asyncio::Coro<> amain() {
    asyncio::sleep(1);
    co_return;
}
