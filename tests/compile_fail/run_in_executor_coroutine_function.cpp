// expect: an executor runs plain functions, not coroutine functions
// A coroutine function given to run_in_executor: its coroutine would never be awaited.
#include <asyncio.hpp>

asyncio::Coro<int> work(int x) { co_return x; }

void misuse(asyncio::EventLoop& loop) { (void)loop.run_in_executor(nullptr, work, 1); }
