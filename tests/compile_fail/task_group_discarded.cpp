// expect: (task_group\(\)|a coroutine object) runs nothing until it is awaited
// A task group that is never awaited runs nothing.
#include <asyncio.hpp>

asyncio::Coro<> amain() {
    asyncio::task_group([](asyncio::TaskGroup&) -> asyncio::Coro<> { co_return; });
    co_return;
}
