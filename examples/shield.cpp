// The seed's shield: the task awaiting shield(task) is cancelled, the shielded work is not; it
// goes on and its result is still produced.
#include <asyncio.hpp>
#include <iostream>
#include <string>

asyncio::Coro<std::string> something() {
    co_await asyncio::sleep(0.5);
    std::cout << "something(): finished" << std::endl;
    co_return "the result";
}

asyncio::Coro<> waiter(asyncio::Task<std::string> task) {
    try {
        std::string res = co_await asyncio::shield(task);
        std::cout << "waiter(): got " << res << std::endl;
    } catch (const asyncio::CancelledError&) {
        std::cout << "waiter(): cancelled, something() goes on" << std::endl;
        throw;
    }
}

asyncio::Coro<> amain() {
    auto task = asyncio::create_task(something());
    auto w = asyncio::create_task(waiter(task));
    co_await asyncio::sleep(0.1);
    w.cancel();
    try {
        co_await w;
    } catch (const asyncio::CancelledError&) {
        std::cout << "main(): waiter is cancelled" << std::endl;
    }
    std::string res = co_await task;
    std::cout << "main(): something() gave " << res << std::endl;
}

int main() { asyncio::run(amain()); }
