// Internal helpers shared by the library's sources.
#pragma once

#include <chrono>
#include <string>
#include <thread>
#include <typeinfo>

namespace asyncio::detail {

// The monotonic clock, in seconds.
inline double monotonic() noexcept {
    using namespace std::chrono;
    return duration<double>(steady_clock::now().time_since_epoch()).count();
}

// A readable name for a type ("std::runtime_error", not "St13runtime_error").
std::string type_name(const std::type_info& t);

// The pause of a busy-wait loop: it tells the CPU (and a sibling hyper-thread) that this is a spin.
inline void cpu_relax() noexcept {
#if defined(__x86_64__) || defined(__i386__)
    __builtin_ia32_pause();
#elif defined(__aarch64__)
    asm volatile("yield");
#endif
}

// How long a thread that hands work to another and expects an answer soon busy-waits before it
// sleeps in the kernel: a kernel wake-up costs microseconds on each side, and an answer usually
// comes within a few.
inline constexpr std::chrono::nanoseconds spin_limit{20'000};

// A timeout beyond this many seconds (about 30 years), or infinite, bounds nothing: a wait treats
// it as no timeout, since converting it to a clock's integer ticks would overflow.
inline constexpr double longest_timeout = 1e9;

// The spin limit of a wait of `timeout` seconds (>= 0): the shorter of the two, computed without
// converting an unbounded timeout (which would overflow).
inline std::chrono::nanoseconds spin_limit_for(double timeout) {
    if (timeout * 1e9 >= static_cast<double>(spin_limit.count()))
        return spin_limit;
    return std::chrono::nanoseconds(static_cast<long long>(timeout * 1e9));
}

// Busy-waits up to about `limit` for pred() to hold; true if it did.
template <class Pred>
bool spin_until(Pred pred, std::chrono::nanoseconds limit = spin_limit) {
    const auto start = std::chrono::steady_clock::now();
    for (;;) {
        for (int i = 0; i < 64; ++i) {
            if (pred())
                return true;
            cpu_relax();
        }
        if (std::chrono::steady_clock::now() - start >= limit)
            return pred();
        std::this_thread::yield();
    }
}

} // namespace asyncio::detail
