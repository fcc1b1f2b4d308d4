// Workload "pingpong": two tasks hand a counter back and forth N times through one-shot
// futures.
#include <asyncio.hpp>

#include "result.hpp"

struct Court {
    asyncio::Future<long long> to_ping;
    asyncio::Future<long long> to_pong;
};

asyncio::Coro<long long> player(Court* court, bool ping, long long n) {
    auto& loop = asyncio::get_running_loop();
    long long last = 0;
    for (;;) {
        auto& mine = ping ? court->to_ping : court->to_pong;
        long long v = co_await mine;
        mine = loop.create_future<long long>();
        last = v;
        if (v >= n)
            break;
        (ping ? court->to_pong : court->to_ping).set_result(v + 1);
        if (v + 1 >= n)
            break;
    }
    co_return last;
}

asyncio::Coro<> amain(long long n) {
    auto& loop = asyncio::get_running_loop();
    Court court{loop.create_future<long long>(), loop.create_future<long long>()};
    auto start = bench::Clock::now();
    auto ping = asyncio::create_task(player(&court, true, n));
    auto pong = asyncio::create_task(player(&court, false, n));
    court.to_ping.set_result(0);
    long long a = co_await ping;
    long long b = co_await pong;
    auto stop = bench::Clock::now();
    if (std::max(a, b) != n - 1 && std::max(a, b) != n)
        bench::fail("pingpong", "wrong count");
    bench::result("pingpong", n, start, stop);
}

int main(int argc, char** argv) { asyncio::run(amain(bench::count_arg(argc, argv, 1'000'000))); }
