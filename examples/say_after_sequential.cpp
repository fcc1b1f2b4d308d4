// Awaiting coroutines one after the other: "hello" after 1 s, "world" after 2 more (3 s).
#include <asyncio.hpp>
#include <iostream>
#include <string>

#include "clock.hpp"

asyncio::Coro<> say_after(double delay, std::string what) {
    co_await asyncio::sleep(delay);
    std::cout << what << std::endl;
}

asyncio::Coro<> amain() {
    std::cout << "started at " << now_hms() << std::endl;

    co_await say_after(1, "hello");
    co_await say_after(2, "world");

    std::cout << "finished at " << now_hms() << std::endl;
}

int main() { asyncio::run(amain()); }
