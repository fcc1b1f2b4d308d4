// Workload "group_of_one" (ours only): N sequential task groups of one child that returns at
// once, in one task. `bench_group_of_one <n> plain` measures the same child made with
// create_task and awaited, without a group, for comparison.
#include <asyncio.hpp>

#include <cstring>

#include "result.hpp"

asyncio::Coro<long long> immediate(long long i) { co_return i; }

asyncio::Coro<long long> grouped(long long n) {
    long long sum = 0;
    for (long long i = 0; i < n; ++i)
        co_await asyncio::task_group([&](asyncio::TaskGroup& tg) -> asyncio::Coro<> {
            sum += co_await tg.create_task(immediate(i));
        });
    co_return sum;
}

asyncio::Coro<long long> plain(long long n) {
    long long sum = 0;
    for (long long i = 0; i < n; ++i)
        sum += co_await asyncio::create_task(immediate(i));
    co_return sum;
}

asyncio::Coro<> amain(long long n, bool without_group) {
    const char* name = without_group ? "create_await" : "group_of_one";
    auto start = bench::Clock::now();
    long long sum = co_await asyncio::create_task(without_group ? plain(n) : grouped(n));
    auto stop = bench::Clock::now();
    if (sum != n * (n - 1) / 2)
        bench::fail(name, "wrong sum");
    bench::result(name, n, start, stop);
}

int main(int argc, char** argv) {
    const bool without_group = argc > 2 && std::strcmp(argv[2], "plain") == 0;
    asyncio::run(amain(bench::count_arg(argc, argv, 1'000'000), without_group));
}
