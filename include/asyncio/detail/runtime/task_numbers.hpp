// Internal: the numbers of unnamed tasks ("Task-N"), asyncio's process-wide _task_name_counter.
#pragma once

#include <cstdint>

namespace asyncio::detail {

// Each thread draws numbers from the process-wide counter in blocks, so that making a task costs
// no atomic read-modify-write (a locked instruction waits for every store before it: a sixth
// of the time to spawn a task, measured). A loop that stops running gives back what its thread
// has not used, when nobody drew after it. So numbers are unique, and increase in creation order
// on each thread and across loops run one after another, as asyncio's do; only tasks made at
// the same time by loops on different threads are numbered from different blocks.
struct TaskNumberBlock {
    std::uint64_t next = 0; // the next number to give
    std::uint64_t end = 0;  // one past the block's last number
};
inline thread_local TaskNumberBlock t_task_numbers;

// Reserves a new block for this thread and gives its first number.
std::uint64_t reserve_task_numbers() noexcept;
// Gives back the rest of this thread's block if it is the counter's last.
void return_task_numbers() noexcept;

inline std::uint64_t next_task_number() noexcept {
    TaskNumberBlock& b = t_task_numbers;
    if (b.next != b.end) [[likely]]
        return b.next++;
    return reserve_task_numbers();
}

} // namespace asyncio::detail
