// The process-wide counter behind task numbers, drawn from in blocks.
#include "asyncio/detail/runtime/task_numbers.hpp"

#include <atomic>

namespace asyncio::detail {

namespace {
constexpr std::uint64_t k_block = 1024;
// The last number reserved by any thread.
std::atomic<std::uint64_t> g_last_reserved{0};
} // namespace

std::uint64_t reserve_task_numbers() noexcept {
    TaskNumberBlock& b = t_task_numbers;
    std::uint64_t first = g_last_reserved.fetch_add(k_block, std::memory_order_relaxed) + 1;
    b.next = first + 1;
    b.end = first + k_block;
    return first;
}

void return_task_numbers() noexcept {
    TaskNumberBlock& b = t_task_numbers;
    if (b.next == b.end)
        return;
    std::uint64_t last = b.end - 1;
    if (g_last_reserved.compare_exchange_strong(last, b.next - 1, std::memory_order_relaxed))
        b.next = b.end = 0;
}

} // namespace asyncio::detail
