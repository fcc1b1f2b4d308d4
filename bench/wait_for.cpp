// Workload "wait_for": N sequential wait_for(coroutine that returns at once, 10 s) in one task.
// The fast path: the coroutine never suspends, so no timer is armed and nothing is allocated
// besides the coroutine's own frame.
#include <asyncio.hpp>

#include "result.hpp"

asyncio::Coro<long long> immediate(long long i) { co_return i; }

asyncio::Coro<long long> waiter(long long n) {
    long long sum = 0;
    for (long long i = 0; i < n; ++i)
        sum += co_await asyncio::wait_for(immediate(i), 10);
    co_return sum;
}

asyncio::Coro<> amain(long long n) {
    auto start = bench::Clock::now();
    long long sum = co_await asyncio::create_task(waiter(n));
    auto stop = bench::Clock::now();
    if (sum != n * (n - 1) / 2)
        bench::fail("wait_for", "wrong sum");
    bench::result("wait_for", n, start, stop);
}

int main(int argc, char** argv) { asyncio::run(amain(bench::count_arg(argc, argv, 1'000'000))); }
