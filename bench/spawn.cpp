// Workload "spawn": create N tasks, each a coroutine returning its index; await them all.
#include <asyncio.hpp>
#include <vector>

#include "result.hpp"

asyncio::Coro<long long> index_of(long long i) { co_return i; }

asyncio::Coro<> amain(long long n) {
    auto start = bench::Clock::now();
    std::vector<asyncio::Task<long long>> tasks;
    tasks.reserve(static_cast<std::size_t>(n));
    for (long long i = 0; i < n; ++i)
        tasks.push_back(asyncio::create_task(index_of(i)));
    long long sum = 0;
    for (auto& t : tasks)
        sum += co_await t;
    auto stop = bench::Clock::now();
    if (sum != n * (n - 1) / 2)
        bench::fail("spawn", "wrong sum");
    bench::result("spawn", n, start, stop);
}

int main(int argc, char** argv) { asyncio::run(amain(bench::count_arg(argc, argv, 1'000'000))); }
