// expect: shield\(\) gives a future: await it
// shield(...) without co_await.
#include <asyncio.hpp>

asyncio::Coro<int> one() { co_return 1; }

asyncio::Coro<> amain() {
    asyncio::shield(one());
    co_return;
}
