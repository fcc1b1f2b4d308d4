// Workload "timeout_scope" (ours only): N sequential co_await timeout(10, immediate()) in one task,
// a scope that never expires. Compare with "wait_for" (the same through wait_for's fast path).
#include <asyncio.hpp>

#include "result.hpp"

asyncio::Coro<long long> immediate(long long i) { co_return i; }

asyncio::Coro<long long> scoped(long long n) {
    long long sum = 0;
    for (long long i = 0; i < n; ++i)
        sum += co_await asyncio::timeout(10, immediate(i));
    co_return sum;
}

asyncio::Coro<> amain(long long n) {
    auto start = bench::Clock::now();
    long long sum = co_await asyncio::create_task(scoped(n));
    auto stop = bench::Clock::now();
    if (sum != n * (n - 1) / 2)
        bench::fail("timeout_scope", "wrong sum");
    bench::result("timeout_scope", n, start, stop);
}

int main(int argc, char** argv) { asyncio::run(amain(bench::count_arg(argc, argv, 1'000'000))); }
