// Workload "sleepers": N tasks each sleep a pseudo-random delay in [0, 1) s (LCG seeded 42),
// then return 1; await all. (seconds - 1) / N is the per-task overhead.
#include <asyncio.hpp>
#include <cstdint>
#include <vector>

#include "result.hpp"

asyncio::Coro<int> sleeper(double delay) {
    co_await asyncio::sleep(delay);
    co_return 1;
}

asyncio::Coro<> amain(long long n) {
    std::uint32_t lcg = 42; // Numerical Recipes' LCG, as the peers use
    auto start = bench::Clock::now();
    std::vector<asyncio::Task<int>> tasks;
    tasks.reserve(static_cast<std::size_t>(n));
    for (long long i = 0; i < n; ++i) {
        lcg = lcg * 1664525u + 1013904223u;
        tasks.push_back(asyncio::create_task(sleeper(lcg / 4294967296.0)));
    }
    long long sum = 0;
    for (auto& t : tasks)
        sum += co_await t;
    auto stop = bench::Clock::now();
    if (sum != n)
        bench::fail("sleepers", "wrong count");
    bench::result("sleepers", n, start, stop);
}

int main(int argc, char** argv) { asyncio::run(amain(bench::count_arg(argc, argv, 1'000'000))); }
