// expect: callbacks must be plain callables, not coroutine functions
// A coroutine function as a callback: its coroutine would never be awaited.
#include <asyncio.hpp>

asyncio::Coro<> work() { co_return; }

void misuse(asyncio::EventLoop& loop) { loop.call_later(1.0, work); }
