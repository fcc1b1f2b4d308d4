// Workload "taskgroup": N trivial tasks (each gives its index) made inside one task_group, which
// waits for them all as it ends; the sum of their results is checked.
#include <asyncio.hpp>

#include <vector>

#include "result.hpp"

asyncio::Coro<long long> index_of(long long i) { co_return i; }

asyncio::Coro<> amain(long long n) {
    std::vector<asyncio::Task<long long>> tasks;
    tasks.reserve(static_cast<std::size_t>(n));
    auto start = bench::Clock::now();
    co_await asyncio::task_group([&](asyncio::TaskGroup& tg) -> asyncio::Coro<> {
        for (long long i = 0; i < n; ++i)
            tasks.push_back(tg.create_task(index_of(i)));
        co_return;
    });
    long long sum = 0;
    for (auto& t : tasks)
        sum += t.result();
    auto stop = bench::Clock::now();
    if (sum != n * (n - 1) / 2)
        bench::fail("taskgroup", "wrong sum");
    bench::result("taskgroup", n, start, stop);
}

int main(int argc, char** argv) { asyncio::run(amain(bench::count_arg(argc, argv, 1'000'000))); }
