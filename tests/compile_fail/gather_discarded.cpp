// expect: gather\(\) gives a future: await it
// gather(...) without co_await: its result and errors would be lost.
#include <asyncio.hpp>

asyncio::Coro<int> one() { co_return 1; }

asyncio::Coro<> amain() {
    asyncio::gather(one(), one());
    co_return;
}
