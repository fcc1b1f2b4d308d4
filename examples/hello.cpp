// The seed's first example: print "hello", wait 1 second, print "world".
#include <asyncio.hpp>
#include <iostream>

asyncio::Coro<> amain() {
    std::cout << "hello" << std::endl;
    co_await asyncio::sleep(1);
    std::cout << "world" << std::endl;
}

int main() { asyncio::run(amain()); }
