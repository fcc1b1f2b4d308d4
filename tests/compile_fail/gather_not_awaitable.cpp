// expect: expected an awaitable
// gather() of something that is not awaitable (asyncio's TypeError "An asyncio.Future, a
// coroutine or an awaitable is required"), next to a valid coroutine.
#include <asyncio.hpp>
#include <map>

asyncio::Coro<int> work() { co_return 1; }

asyncio::Coro<void> misuse() { (void)co_await asyncio::gather(work(), std::map<int, int>{}); }
