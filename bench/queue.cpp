// Workload "queue": one producer puts 0..N-1 into a bounded queue (capacity 1,024), one consumer
// gets them all; the sum is checked. ns per item.
#include <asyncio.hpp>

#include "result.hpp"

asyncio::Coro<> producer(asyncio::Queue<long long>* q, long long n) {
    for (long long i = 0; i < n; ++i)
        co_await q->put(i);
}

asyncio::Coro<long long> consumer(asyncio::Queue<long long>* q, long long n) {
    long long sum = 0;
    for (long long i = 0; i < n; ++i)
        sum += co_await q->get();
    co_return sum;
}

asyncio::Coro<> amain(long long n) {
    asyncio::Queue<long long> q(1024);
    auto start = bench::Clock::now();
    auto p = asyncio::create_task(producer(&q, n));
    auto c = asyncio::create_task(consumer(&q, n));
    co_await p;
    long long sum = co_await c;
    auto stop = bench::Clock::now();
    if (sum != n * (n - 1) / 2)
        bench::fail("queue", "wrong sum");
    bench::result("queue", n, start, stop);
}

int main(int argc, char** argv) { asyncio::run(amain(bench::count_arg(argc, argv, 1'000'000))); }
