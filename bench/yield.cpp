// Workload "yield": one task does sleep(0) N times.
#include <asyncio.hpp>

#include "result.hpp"

asyncio::Coro<long long> yielder(long long n) {
    long long count = 0;
    for (long long i = 0; i < n; ++i) {
        co_await asyncio::sleep(0);
        ++count;
    }
    co_return count;
}

asyncio::Coro<> amain(long long n) {
    auto start = bench::Clock::now();
    long long count = co_await asyncio::create_task(yielder(n));
    auto stop = bench::Clock::now();
    if (count != n)
        bench::fail("yield", "wrong count");
    bench::result("yield", n, start, stop);
}

int main(int argc, char** argv) { asyncio::run(amain(bench::count_arg(argc, argv, 1'000'000))); }
