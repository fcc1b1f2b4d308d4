// expect: run_coroutine_threadsafe\(\) expects a coroutine object
// Passing the coroutine function instead of a coroutine object (asyncio's TypeError).
#include <asyncio.hpp>

asyncio::Coro<int> work() { co_return 1; }

void misuse(asyncio::EventLoop& loop) { asyncio::run_coroutine_threadsafe(work, loop); }
