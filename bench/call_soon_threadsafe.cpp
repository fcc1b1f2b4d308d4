// Workload "call_soon_threadsafe" (not in BENCH.md; measures the loop's thread-safe inbox): a
// foreign thread schedules N callbacks with call_soon_threadsafe, keeping at most 64 of them not
// yet run (it yields while the window is full); the clock stops when the loop has run the last.
#include <asyncio.hpp>
#include <atomic>
#include <thread>

#include "result.hpp"

namespace {
struct Count {
    std::atomic<long long>* done;
    long long* sum;
    long long n;
    asyncio::EventLoop* loop;
    void operator()(long long i) const {
        *sum += i;
        if (done->fetch_add(1, std::memory_order_release) + 1 == n)
            loop->stop();
    }
};
} // namespace

int main(int argc, char** argv) {
    const long long n = bench::count_arg(argc, argv, 1'000'000);
    auto loop = asyncio::new_event_loop();
    std::atomic<long long> done{0};
    long long sum = 0;
    auto start = bench::Clock::now();
    std::thread producer([&] {
        for (long long i = 0; i < n; ++i) {
            while (i - done.load(std::memory_order_acquire) >= 64)
                std::this_thread::yield();
            loop->call_soon_threadsafe(Count{&done, &sum, n, loop.get()}, i);
        }
    });
    loop->run_forever();
    auto stop = bench::Clock::now();
    producer.join();
    if (done.load() != n || sum != n * (n - 1) / 2)
        bench::fail("call_soon_threadsafe", "wrong count");
    bench::result("call_soon_threadsafe", n, start, stop);
    loop->close();
}
