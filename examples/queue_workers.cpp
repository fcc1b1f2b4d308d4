// The asyncio documentation's Queue example: three workers share a queue of sleeps; main joins
// the queue, then cancels the workers. Virtual time, and a fixed sequence of sleeps instead of
// random.uniform, make the output exact.
#include <asyncio.hpp>
#include <cstdio>
#include <string>
#include <vector>

asyncio::Coro<> worker(std::string name, asyncio::Queue<double>& queue) {
    for (;;) {
        // Get a "work item" out of the queue.
        double sleep_for = co_await queue.get();
        // Sleep for the "sleep_for" seconds.
        co_await asyncio::sleep(sleep_for);
        // Notify the queue that the "work item" has been processed.
        queue.task_done();
        std::printf("%s has slept for %.2f seconds\n", name.c_str(), sleep_for);
    }
}

asyncio::Coro<> amain() {
    // Create a queue that we will use to store our "workload".
    asyncio::Queue<double> queue;
    // Generate pseudo-random timings (0.05 .. 1.0 s) and put them into the queue.
    double total_sleep_time = 0;
    unsigned seed = 42;
    for (int i = 0; i < 20; ++i) {
        seed = seed * 1103515245u + 12345u;
        double sleep_for = 0.05 + 0.95 * ((seed >> 16) % 1000) / 1000.0;
        total_sleep_time += sleep_for;
        queue.put_nowait(sleep_for);
    }
    // Create three worker tasks to process the queue concurrently.
    std::vector<asyncio::Task<>> tasks;
    for (int i = 0; i < 3; ++i)
        tasks.push_back(asyncio::create_task(worker("worker-" + std::to_string(i), queue)));
    // Wait until the queue is fully processed.
    auto& loop = asyncio::get_running_loop();
    double started_at = loop.time();
    co_await queue.join();
    double total_slept_for = loop.time() - started_at;
    // Cancel our worker tasks, and wait until they are cancelled.
    for (auto& task : tasks)
        task.cancel();
    co_await asyncio::gather(asyncio::return_exceptions, tasks);
    std::printf("====\n");
    std::printf("3 workers slept in parallel for %.2f seconds\n", total_slept_for);
    std::printf("total expected sleep time: %.2f seconds\n", total_sleep_time);
}

int main() { asyncio::run(amain(), {.virtual_time = true}); }
