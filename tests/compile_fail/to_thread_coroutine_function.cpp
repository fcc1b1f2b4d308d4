// expect: to_thread\(\) runs plain functions, not coroutine functions|an executor runs plain
// functions A coroutine function run in a thread: its coroutine would never be awaited.
#include <asyncio.hpp>

asyncio::Coro<int> work() { co_return 1; }

asyncio::Coro<> misuse() { co_await asyncio::to_thread(work); }
