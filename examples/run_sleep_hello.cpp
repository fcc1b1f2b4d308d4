// asyncio::run() as the entry point: sleep 1 s, then print "hello".
#include <asyncio.hpp>
#include <iostream>

asyncio::Coro<> amain() {
    co_await asyncio::sleep(1);
    std::cout << "hello" << std::endl;
}

int main() { asyncio::run(amain()); }
