// Workload "timeout": N tasks each run wait_for(sleep(10 s), 1 ms) concurrently and get
// TimeoutError.
#include <asyncio.hpp>

#include <vector>

#include "result.hpp"

asyncio::Coro<int> times_out() {
    try {
        co_await asyncio::wait_for(asyncio::sleep(10), 0.001);
    } catch (const asyncio::TimeoutError&) {
        co_return 1;
    }
    co_return 0;
}

asyncio::Coro<> amain(long long n) {
    auto start = bench::Clock::now();
    std::vector<asyncio::Task<int>> tasks;
    tasks.reserve(static_cast<std::size_t>(n));
    for (long long i = 0; i < n; ++i)
        tasks.push_back(asyncio::create_task(times_out()));
    long long count = 0;
    for (auto& t : tasks)
        count += co_await t;
    auto stop = bench::Clock::now();
    if (count != n)
        bench::fail("timeout", "not every task timed out");
    bench::result("timeout", n, start, stop);
}

int main(int argc, char** argv) { asyncio::run(amain(bench::count_arg(argc, argv, 100'000))); }
