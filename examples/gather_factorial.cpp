// The seed's gather example: three factorial computations run concurrently; the results come
// back in argument order.
#include <asyncio.hpp>
#include <iostream>
#include <string>

asyncio::Coro<long> factorial(std::string name, int number) {
    long f = 1;
    for (int i = 2; i <= number; ++i) {
        std::cout << "Task " << name << ": Compute factorial(" << number << "), currently i=" << i
                  << "..." << std::endl;
        co_await asyncio::sleep(1);
        f *= i;
    }
    std::cout << "Task " << name << ": factorial(" << number << ") = " << f << std::endl;
    co_return f;
}

asyncio::Coro<> amain() {
    // Schedule three calls *concurrently*:
    auto [a, b, c] =
        co_await asyncio::gather(factorial("A", 2), factorial("B", 3), factorial("C", 4));
    std::cout << "[" << a << ", " << b << ", " << c << "]" << std::endl;
}

int main() { asyncio::run(amain()); }
