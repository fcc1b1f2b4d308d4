// expect: add_done_callback\(\) expects a plain callable, not a coroutine function
// A done callback that is a coroutine function: its coroutine would never be awaited.
#include <asyncio.hpp>

asyncio::Coro<> on_done(const asyncio::Task<int>&) { co_return; }

void misuse(asyncio::Task<int> task) { task.add_done_callback(on_done); }
