// Workload "lock": 100 tasks share one lock; each takes it N/100 times and, holding it, reads a
// counter, yields (sleep(0)), writes counter + 1 (a lock that did not exclude would lose
// increments); the counter is checked. ns per acquire.
#include <asyncio.hpp>
#include <vector>

#include "result.hpp"

struct Shared {
    asyncio::Lock lock;
    long long counter = 0;
};

asyncio::Coro<> worker(Shared* s, long long times) {
    for (long long i = 0; i < times; ++i) {
        auto held = co_await s->lock.scoped();
        long long v = s->counter;
        co_await asyncio::sleep(0);
        s->counter = v + 1;
    }
}

asyncio::Coro<> amain(long long n) {
    constexpr int tasks = 100;
    Shared s;
    auto start = bench::Clock::now();
    std::vector<asyncio::Task<>> all;
    all.reserve(tasks);
    for (int t = 0; t < tasks; ++t)
        all.push_back(asyncio::create_task(worker(&s, n / tasks)));
    for (auto& t : all)
        co_await t;
    auto stop = bench::Clock::now();
    if (s.counter != n / tasks * tasks)
        bench::fail("lock", "lost increments");
    bench::result("lock", n, start, stop);
}

int main(int argc, char** argv) { asyncio::run(amain(bench::count_arg(argc, argv, 1'000'000))); }
