// The seed's as_completed: each awaitable it yields gives the earliest result not yet given, so
// the results come in completion order, not argument order.
#include <asyncio.hpp>
#include <iostream>
#include <vector>

asyncio::Coro<double> nap(double seconds) {
    co_await asyncio::sleep(seconds);
    co_return seconds;
}

asyncio::Coro<> amain() {
    std::vector<asyncio::Coro<double>> aws;
    aws.push_back(nap(0.3));
    aws.push_back(nap(0.1));
    aws.push_back(nap(0.2));
    for (auto coro : asyncio::as_completed(std::move(aws))) {
        double earliest_result = co_await coro;
        std::cout << "slept " << earliest_result << " s" << std::endl;
    }
}

int main() { asyncio::run(amain()); }
