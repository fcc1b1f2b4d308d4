// expect: wrap each one in create_task
// wait() refuses coroutines (asyncio's "Passing coroutines is forbidden, use tasks explicitly"):
// the tasks it would make could not be found in done/pending.
#include <asyncio.hpp>
#include <vector>

asyncio::Coro<int> work() { co_return 1; }

asyncio::Coro<void> misuse() {
    std::vector<asyncio::Coro<int>> coros;
    coros.push_back(work());
    (void)co_await asyncio::wait(std::move(coros));
}
