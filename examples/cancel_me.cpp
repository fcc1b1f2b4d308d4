// The seed's cancellation example: a task intercepts its cancellation, cleans up, re-raises.
#include <asyncio.hpp>
#include <iostream>

asyncio::Coro<> cancel_me() {
    std::cout << "cancel_me(): before sleep" << std::endl;
    try {
        try {
            // Wait for 1 hour
            co_await asyncio::sleep(3600);
        } catch (const asyncio::CancelledError&) {
            std::cout << "cancel_me(): cancel sleep" << std::endl;
            throw;
        }
    } catch (...) { // C++ has no `finally`: clean up, then rethrow
        std::cout << "cancel_me(): after sleep" << std::endl;
        throw;
    }
    std::cout << "cancel_me(): after sleep" << std::endl;
}

asyncio::Coro<> amain() {
    // Create a "cancel_me" Task
    auto task = asyncio::create_task(cancel_me());

    // Wait for 1 second
    co_await asyncio::sleep(1);

    task.cancel();
    try {
        co_await task;
    } catch (const asyncio::CancelledError&) {
        std::cout << "main(): cancel_me is cancelled now" << std::endl;
    }
}

int main() { asyncio::run(amain()); }
