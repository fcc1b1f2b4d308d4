// The seed's wait_for example: an eternity awaited with a 1 second timeout.
#include <asyncio.hpp>
#include <iostream>

asyncio::Coro<> eternity() {
    // Sleep for one hour
    co_await asyncio::sleep(3600);
    std::cout << "yay!" << std::endl;
}

asyncio::Coro<> amain() {
    // Wait for at most 1 second
    try {
        co_await asyncio::wait_for(eternity(), 1.0);
    } catch (const asyncio::TimeoutError&) {
        std::cout << "timeout!" << std::endl;
    }
}

int main() { asyncio::run(amain()); }
