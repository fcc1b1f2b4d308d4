// expect: not a single one
// wait() takes a range of tasks or futures, not one (asyncio's TypeError).
#include <asyncio.hpp>

asyncio::Coro<void> misuse(asyncio::Task<int> task) { (void)co_await asyncio::wait(task); }
