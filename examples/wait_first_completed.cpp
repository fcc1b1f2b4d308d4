// wait() with FIRST_COMPLETED: it returns when the fast task is done; the slow one is pending.
#include <asyncio.hpp>
#include <iostream>
#include <string>
#include <vector>

asyncio::Coro<std::string> work(std::string name, double seconds) {
    co_await asyncio::sleep(seconds);
    co_return name;
}

asyncio::Coro<> amain() {
    std::vector<asyncio::Task<std::string>> tasks{asyncio::create_task(work("fast", 1), "fast"),
                                                  asyncio::create_task(work("slow", 3), "slow")};
    auto [done, pending] = co_await asyncio::wait(tasks, {.return_when = asyncio::FIRST_COMPLETED});
    for (auto& t : done)
        std::cout << "done: " << t.result() << std::endl;
    for (auto& t : pending) {
        std::cout << "pending: " << t.get_name() << std::endl;
        t.cancel();
    }
}

int main() { asyncio::run(amain()); }
