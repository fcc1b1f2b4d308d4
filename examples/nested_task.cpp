// nested() scheduled to run soon, concurrently with amain(), as a task; then awaited.
#include <asyncio.hpp>

asyncio::Coro<int> nested() { co_return 42; }

asyncio::Coro<> amain() {
    // Schedule nested() to run soon concurrently with amain().
    auto task = asyncio::create_task(nested());

    // "task" can now be used to cancel nested(), or can simply be awaited to wait until it is
    // complete:
    co_await task;
}

int main() { asyncio::run(amain()); }
