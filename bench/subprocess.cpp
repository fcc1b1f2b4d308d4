// Workload "subprocess": N sequential create_subprocess_exec("/bin/true") + wait(); every exit
// status is checked. ns per process.
#include <asyncio.hpp>

#include "result.hpp"

asyncio::Coro<> amain(long long n) {
    auto start = bench::Clock::now();
    for (long long i = 0; i < n; ++i) {
        auto proc = co_await asyncio::create_subprocess_exec("/bin/true");
        int code = co_await proc.wait();
        if (code != 0)
            bench::fail("subprocess", "a child exited with a non-zero status");
    }
    auto stop = bench::Clock::now();
    bench::result("subprocess", n, start, stop);
}

int main(int argc, char** argv) { asyncio::run(amain(bench::count_arg(argc, argv, 500))); }
