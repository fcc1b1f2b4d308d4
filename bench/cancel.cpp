// Workload "cancel": N tasks blocked on a never-completing future; cancel every one; await them
// all (each raises CancelledError).
#include <asyncio.hpp>
#include <vector>

#include "result.hpp"

asyncio::Coro<> blocked(asyncio::Future<> never) { co_await never; }

asyncio::Coro<> amain(long long n) {
    auto& loop = asyncio::get_running_loop();
    auto start = bench::Clock::now();
    std::vector<asyncio::Task<>> tasks;
    tasks.reserve(static_cast<std::size_t>(n));
    for (long long i = 0; i < n; ++i)
        tasks.push_back(asyncio::create_task(blocked(loop.create_future())));
    co_await asyncio::sleep(0); // every task is now blocked on its future
    for (auto& t : tasks)
        t.cancel();
    long long cancelled = 0;
    for (auto& t : tasks) {
        try {
            co_await t;
        } catch (const asyncio::CancelledError&) {
            ++cancelled;
        }
    }
    auto stop = bench::Clock::now();
    if (cancelled != n)
        bench::fail("cancel", "not every task was cancelled");
    bench::result("cancel", n, start, stop);
}

int main(int argc, char** argv) { asyncio::run(amain(bench::count_arg(argc, argv, 100'000))); }
