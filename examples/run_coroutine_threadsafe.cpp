// The seed's run_coroutine_threadsafe example: another thread submits sleep(1, 3) to the running
// loop and waits for its result, 3.
#include <asyncio.hpp>
#include <exception>
#include <functional>
#include <iostream>

asyncio::Coro<int> sleep_for_result(double delay, int result) {
    co_return co_await asyncio::sleep(delay, result);
}

// Runs in a thread of its own (a worker of the default executor), not in the loop's.
void other_thread(asyncio::EventLoop& loop) {
    // Create a coroutine
    asyncio::Coro<int> coro = sleep_for_result(1, 3);

    // Submit the coroutine to a given loop
    asyncio::ConcurrentFuture<int> future =
        asyncio::run_coroutine_threadsafe(std::move(coro), loop);

    // Wait for the result with a timeout (seconds)
    try {
        int result = future.result(10);
        std::cout << result << std::endl;
    } catch (const asyncio::TimeoutError&) {
        std::cout << "The coroutine took too long, cancelling the task..." << std::endl;
        future.cancel();
    } catch (const std::exception& exc) {
        std::cout << "The coroutine raised an exception: " << exc.what() << std::endl;
    }
}

asyncio::Coro<> amain() {
    // The loop keeps running while the other thread waits for it.
    co_await asyncio::to_thread(other_thread, std::ref(asyncio::get_running_loop()));
}

int main() { asyncio::run(amain()); }
