// expect: timeout\(\) (does|and wait_for\(\) do) nothing
// A timeout scope that is never awaited runs nothing.
#include <asyncio.hpp>

asyncio::Coro<> work() { co_return; }

asyncio::Coro<> amain() {
    asyncio::timeout(1, work());
    co_return;
}
