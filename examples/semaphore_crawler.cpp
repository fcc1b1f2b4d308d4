// Bounded concurrency: 50 fake fetches, at most 5 at a time (asyncio.Semaphore).
#include <asyncio.hpp>
#include <iostream>
#include <vector>

int in_flight = 0;

asyncio::Coro<int> fetch(asyncio::Semaphore& sem, int page) {
    auto held = co_await sem.scoped(); // async with sem:
    ++in_flight;
    std::cout << "fetching page " << page << " (" << in_flight << " in flight)\n";
    co_await asyncio::sleep(0.1 * (1 + page % 3)); // the network
    --in_flight;
    co_return page;
}

asyncio::Coro<> amain() {
    asyncio::Semaphore sem(5);
    std::vector<asyncio::Coro<int>> fetches;
    for (int page = 0; page < 50; ++page)
        fetches.push_back(fetch(sem, page));
    std::vector<int> pages = co_await asyncio::gather(std::move(fetches));
    std::cout << pages.size() << " pages fetched\n";
}

int main() { asyncio::run(amain(), {.virtual_time = true}); }
