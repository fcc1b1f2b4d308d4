// Which TCP ports of a host are open: one connection attempt per port, all at once but at most
// 100 in flight (a Semaphore), each under a 1 s timeout.
//     port_check [host] port...      (the host defaults to 127.0.0.1)
#include <asyncio.hpp>
#include <iostream>
#include <string>
#include <vector>

struct Probe {
    int port;
    std::string verdict;
};

asyncio::Coro<Probe> probe(asyncio::Semaphore& slots, std::string host, int port) {
    auto slot = co_await slots.scoped();
    std::string verdict;
    try {
        co_await asyncio::timeout(1.0, [&]() -> asyncio::Coro<> {
            auto [reader, writer] = co_await asyncio::open_connection(host, port);
            writer.close();
            co_await writer.wait_closed();
        });
        verdict = "open";
    } catch (const asyncio::TimeoutError&) {
        verdict = "filtered (no answer within 1 s)";
    } catch (const asyncio::ConnectionRefusedError&) {
        verdict = "closed";
    } catch (const asyncio::OSError& e) {
        verdict = std::string("error: ") + e.what();
    }
    co_return Probe{port, verdict};
}

asyncio::Coro<> check(std::string host, std::vector<int> ports) {
    asyncio::Semaphore slots(100);
    std::vector<asyncio::Coro<Probe>> probes;
    for (int port : ports)
        probes.push_back(probe(slots, host, port));
    std::vector<Probe> results = co_await asyncio::gather(std::move(probes));
    for (const Probe& p : results)
        std::cout << host << ":" << p.port << " " << p.verdict << std::endl;
}

int main(int argc, char** argv) {
    std::string host = "127.0.0.1";
    std::vector<int> ports;
    for (int i = 1; i < argc; ++i) {
        std::string arg = argv[i];
        if (arg.find_first_not_of("0123456789") != std::string::npos)
            host = arg;
        else
            ports.push_back(std::stoi(arg));
    }
    if (ports.empty()) {
        std::cerr << "usage: port_check [host] port..." << std::endl;
        return 2;
    }
    asyncio::run(check(host, ports));
}
