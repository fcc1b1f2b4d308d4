// expect: a coroutine object runs nothing until it is awaited
// Calling a coroutine function and dropping the result runs nothing: a compile-time warning
// (an error under -Werror) instead of asyncio's run-time "never awaited" warning.
#include <asyncio.hpp>

asyncio::Coro<int> nested() { co_return 42; }

asyncio::Coro<> amain() {
    nested();
    co_return;
}
