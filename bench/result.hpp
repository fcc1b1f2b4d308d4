// Shared by the benchmarks: the RESULT line of BENCH.md and the failure exit.
#pragma once

#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <sys/resource.h>

namespace bench {

using Clock = std::chrono::steady_clock;

inline void result(const char* workload, long long n, Clock::time_point start,
                   Clock::time_point stop, const char* impl = "asyncio") {
    double seconds = std::chrono::duration<double>(stop - start).count();
    rusage usage{};
    getrusage(RUSAGE_SELF, &usage);
    std::printf("RESULT impl=%s workload=%s n=%lld seconds=%.6f ns_per_op=%.1f rss_kb=%ld\n", impl,
                workload, n, seconds, seconds * 1e9 / static_cast<double>(n), usage.ru_maxrss);
}

[[noreturn]] inline void fail(const char* workload, const char* why, const char* impl = "asyncio") {
    std::fprintf(stderr, "FAIL impl=%s workload=%s: %s\n", impl, workload, why);
    std::exit(1);
}

inline long long count_arg(int argc, char** argv, long long fallback) {
    return argc > 1 ? std::atoll(argv[1]) : fallback;
}

} // namespace bench
