// A ticker that runs until Ctrl-C: asyncio::run() turns SIGINT into a cancellation of the main
// task, the ticker cleans up, and run() ends with KeyboardInterrupt.
#include <asyncio.hpp>
#include <iostream>

asyncio::Coro<> ticker() {
    int ticks = 0;
    std::cout << "ticking; press Ctrl-C to stop" << std::endl;
    try {
        for (;;) {
            co_await asyncio::sleep(0.5);
            ++ticks;
        }
    } catch (const asyncio::CancelledError&) {
        std::cout << "stopping cleanly after " << ticks << " tick(s)" << std::endl;
        throw;
    }
}

int main() {
    try {
        asyncio::run(ticker());
    } catch (const asyncio::KeyboardInterrupt&) {
        std::cout << "interrupted" << std::endl;
        return 130;
    }
}
