// expect: create_task\(\) expects a coroutine object
// Passing the coroutine function instead of calling it.
#include <asyncio.hpp>

asyncio::Coro<int> answer() { co_return 42; }

void misuse() { asyncio::create_task(answer); }
