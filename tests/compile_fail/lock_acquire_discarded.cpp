// expect: does nothing until it is awaited
// lock.acquire() without co_await acquires nothing: a compile-time warning (an error under
// -Werror) instead of a silent no-op (in Python, the coroutine is never awaited).
#include <asyncio.hpp>

asyncio::Coro<> critical(asyncio::Lock& lock) {
    lock.acquire();
    lock.release();
    co_return;
}
