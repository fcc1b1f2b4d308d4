// expect: callbacks must be plain callables, not coroutine functions
// A coroutine function as a reader: asyncio would call it and drop the coroutine it returns
// ("coroutine was never awaited") every time the descriptor is readable.
#include <asyncio.hpp>

asyncio::Coro<> on_readable() { co_return; }

void misuse(asyncio::EventLoop& loop, int fd) { loop.add_reader(fd, on_readable); }
