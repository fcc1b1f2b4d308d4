// expect: create_task\(\) expects a coroutine object
// Passing a coroutine function that needs arguments instead of calling it (one that takes none
// is accepted: the task owns it).
#include <asyncio.hpp>

asyncio::Coro<int> twice(int x) { co_return 2 * x; }

void misuse() { asyncio::create_task(twice); }
