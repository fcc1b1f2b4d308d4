// Fetches in one task group under one timeout: when a fetch fails, the group cancels the others
// and raises an ExceptionGroup; when the deadline comes first, the timeout cancels the group.
#include <asyncio.hpp>
#include <iostream>
#include <stdexcept>
#include <string>

asyncio::Coro<std::string> fetch(std::string url, double seconds, bool fails) {
    co_await asyncio::sleep(seconds);
    if (fails)
        throw std::runtime_error("503 from " + url);
    co_return "page of " + url;
}

asyncio::Coro<> fetch_all(double deadline, bool b_fails) {
    try {
        co_await asyncio::timeout(deadline, [&]() -> asyncio::Coro<> {
            co_await asyncio::task_group([&](asyncio::TaskGroup& tg) -> asyncio::Coro<> {
                auto a = tg.create_task(fetch("a.example", 0.1, false));
                tg.create_task(fetch("b.example", 0.2, b_fails));
                tg.create_task(fetch("c.example", 0.3, false));
                std::cout << co_await a << std::endl;
            });
            std::cout << "all fetched" << std::endl;
        });
    } catch (const asyncio::ExceptionGroup& eg) {
        std::cout << eg.what() << std::endl;
        for (const std::exception_ptr& e : eg.exceptions()) {
            try {
                std::rethrow_exception(e);
            } catch (const std::exception& error) {
                std::cout << "  " << error.what() << std::endl;
            }
        }
    } catch (const asyncio::TimeoutError&) {
        std::cout << "timed out" << std::endl;
    }
}

asyncio::Coro<> amain() {
    co_await fetch_all(5, false);    // everything arrives
    co_await fetch_all(5, true);     // b fails: c is cancelled
    co_await fetch_all(0.25, false); // the deadline cancels c
}

int main() { asyncio::run(amain()); }
