// The same two say_after calls as concurrent tasks: 2 s in all instead of 3.
#include <asyncio.hpp>
#include <iostream>
#include <string>

#include "clock.hpp"

asyncio::Coro<> say_after(double delay, std::string what) {
    co_await asyncio::sleep(delay);
    std::cout << what << std::endl;
}

asyncio::Coro<> amain() {
    auto task1 = asyncio::create_task(say_after(1, "hello"));
    auto task2 = asyncio::create_task(say_after(2, "world"));

    std::cout << "started at " << now_hms() << std::endl;

    // Wait until both tasks are completed (should take around 2 seconds.)
    co_await task1;
    co_await task2;

    std::cout << "finished at " << now_hms() << std::endl;
}

int main() { asyncio::run(amain()); }
