// Introspection: the current task, all tasks with their names, and the async stack of a
// suspended task: each coroutine frame with the file:line of the co_await it waits at.
#include <asyncio.hpp>
#include <iostream>

asyncio::Coro<> leaf() { co_await asyncio::sleep(10); }
asyncio::Coro<> middle() { co_await leaf(); }
asyncio::Coro<> worker() { co_await middle(); }

asyncio::Coro<> amain() {
    std::cout << "current task: " << asyncio::current_task().get_name() << std::endl;

    auto task = asyncio::create_task(worker(), "worker");
    co_await asyncio::sleep(0.1); // let it start and suspend inside leaf()

    std::cout << "all tasks:";
    for (const asyncio::TaskRef& t : asyncio::all_tasks())
        std::cout << " " << t.get_name();
    std::cout << std::endl;

    std::cout << "stack of " << task.get_name() << ":" << std::endl;
    for (const asyncio::Frame& f : task.get_stack())
        std::cout << "  " << f.name << " at " << f.filename << ":" << f.lineno << std::endl;

    task.print_stack(std::nullopt, std::cout);
    task.cancel();
}

int main() { asyncio::run(amain()); }
