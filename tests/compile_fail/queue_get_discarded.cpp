// expect: does nothing until it is awaited
// q.get() without co_await takes no item: a compile-time warning (an error under -Werror).
#include <asyncio.hpp>

asyncio::Coro<> consume(asyncio::Queue<int>& q) {
    q.get();
    co_return;
}
