// The seed's to_thread example: blocking_io() blocks its thread for 1 second while the loop
// sleeps 1 second; gathered, both take 1 second in all, not 2.
#include <asyncio.hpp>
#include <chrono>
#include <iostream>
#include <thread>

#include "clock.hpp"

void blocking_io() {
    std::cout << "start blocking_io at " << now_hms() << std::endl;
    // Note that std::this_thread::sleep_for() can be replaced with any blocking
    // IO-bound operation, such as file operations.
    std::this_thread::sleep_for(std::chrono::seconds(1));
    std::cout << "blocking_io complete at " << now_hms() << std::endl;
}

// asyncio.sleep() is a coroutine in Python; here sleep() is an awaiter, so gather() gets it
// wrapped in a coroutine.
asyncio::Coro<> pause(double seconds) { co_await asyncio::sleep(seconds); }

asyncio::Coro<> amain() {
    std::cout << "started main at " << now_hms() << std::endl;

    co_await asyncio::gather(asyncio::to_thread(blocking_io), pause(1));

    std::cout << "finished main at " << now_hms() << std::endl;
}

int main() { asyncio::run(amain()); }
