// expect: a Coro is not a callback
// A Coro passed where a callback is expected would never be awaited (asyncio's TypeError).
#include <asyncio.hpp>

asyncio::Coro<> work() { co_return; }

void misuse(asyncio::EventLoop& loop) { loop.call_soon(work()); }
