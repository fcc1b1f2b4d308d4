// expect: await_ready
// A Lock is not awaitable itself (asyncio's TypeError "object Lock can't be used in 'await'
// expression"): await lock.acquire(), or lock.scoped() for `async with lock:`.
#include <asyncio.hpp>

asyncio::Coro<> critical(asyncio::Lock& lock) { co_await lock; }
