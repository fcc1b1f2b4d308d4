// The seed's to_thread example: blocking_io() blocks its thread for 1 second while the loop
// sleeps 1 second; both at once take 1 second in all, not 2. (The seed awaits the two with
// gather(); here they are a task and a sleep, awaited in turn, which takes the same time.)
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

asyncio::Coro<> amain() {
    std::cout << "started main at " << now_hms() << std::endl;

    auto io = asyncio::create_task(asyncio::to_thread(blocking_io));
    co_await asyncio::sleep(1);
    co_await io;

    std::cout << "finished main at " << now_hms() << std::endl;
}

int main() { asyncio::run(amain()); }
