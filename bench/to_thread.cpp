// Workload "to_thread": N to_thread(trivial function) calls, 64 in flight (64 tasks, each calling
// to_thread in turn until N calls were made).
#include <asyncio.hpp>
#include <vector>

#include "result.hpp"

namespace {

long long trivial(long long x) { return x + 1; }

asyncio::Coro<long long> lane(long long* next, long long n) {
    long long sum = 0;
    for (;;) {
        long long i = (*next)++;
        if (i >= n)
            break;
        sum += co_await asyncio::to_thread(trivial, i) - 1;
    }
    co_return sum;
}

asyncio::Coro<> amain(long long n) {
    long long next = 0;
    auto start = bench::Clock::now();
    std::vector<asyncio::Task<long long>> lanes;
    for (int w = 0; w < 64; ++w)
        lanes.push_back(asyncio::create_task(lane(&next, n)));
    long long sum = 0;
    for (auto& l : lanes)
        sum += co_await l;
    auto stop = bench::Clock::now();
    if (sum != n * (n - 1) / 2)
        bench::fail("to_thread", "wrong sum");
    bench::result("to_thread", n, start, stop);
}

} // namespace

int main(int argc, char** argv) { asyncio::run(amain(bench::count_arg(argc, argv, 100'000))); }
