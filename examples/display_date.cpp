// Displays the current date every second for 5 seconds, stopping by the loop's clock.
#include <asyncio.hpp>
#include <chrono>
#include <ctime>
#include <iomanip>
#include <iostream>

asyncio::Coro<> display_date() {
    auto& loop = asyncio::get_running_loop();
    double end_time = loop.time() + 5.0;
    while (true) {
        auto now = std::chrono::system_clock::now();
        std::time_t t = std::chrono::system_clock::to_time_t(now);
        auto us = std::chrono::duration_cast<std::chrono::microseconds>(now.time_since_epoch());
        std::cout << std::put_time(std::localtime(&t), "%Y-%m-%d %H:%M:%S") << '.' << std::setw(6)
                  << std::setfill('0') << us.count() % 1000000 << std::endl;
        if (loop.time() + 1.0 >= end_time)
            break;
        co_await asyncio::sleep(1);
    }
}

int main() { asyncio::run(display_date()); }
