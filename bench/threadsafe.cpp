// Workload "threadsafe": a foreign thread submits N coroutines with run_coroutine_threadsafe, 64 in
// flight, waiting for each result in turn (the oldest first).
#include <asyncio.hpp>
#include <deque>
#include <thread>

#include "result.hpp"

namespace {

asyncio::Coro<long long> ret_index(long long i) { co_return i; }

asyncio::Coro<> amain(long long n) {
    asyncio::EventLoop& loop = asyncio::get_running_loop();
    asyncio::Future<void> finished = loop.create_future<void>();
    long long sum = 0;
    bench::Clock::time_point start, stop;
    std::thread foreign([&] {
        std::deque<asyncio::ConcurrentFuture<long long>> in_flight;
        start = bench::Clock::now();
        for (long long i = 0; i < n; ++i) {
            if (in_flight.size() == 64) {
                sum += in_flight.front().result();
                in_flight.pop_front();
            }
            in_flight.push_back(asyncio::run_coroutine_threadsafe(ret_index(i), loop));
        }
        for (auto& f : in_flight)
            sum += f.result();
        stop = bench::Clock::now();
        loop.call_soon_threadsafe([finished]() mutable { finished.set_result(); });
    });
    co_await finished;
    foreign.join();
    if (sum != n * (n - 1) / 2)
        bench::fail("threadsafe", "wrong sum");
    bench::result("threadsafe", n, start, stop);
}

} // namespace

int main(int argc, char** argv) { asyncio::run(amain(bench::count_arg(argc, argv, 100'000))); }
