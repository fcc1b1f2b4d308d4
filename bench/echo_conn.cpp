// Workload "echo_conn": connection churn against this process's own echo server, on the same
// loop: connect, send one 64-byte message, read its echo, close, wait until closed — N times,
// one after another; every echo is checked. ns per connection.
#include <asyncio.hpp>
#include <cstdio>
#include <string>

#include "echo_handler.hpp"
#include "result.hpp"

namespace {

constexpr std::size_t message_size = 64;

asyncio::Coro<> amain(long long n) {
    auto server = co_await asyncio::start_server(bench::echo_handler, "127.0.0.1", 0);
    int port = server.sockets().at(0).port;
    long long ok = 0;
    char message[message_size + 1];
    auto start = bench::Clock::now();
    for (long long i = 0; i < n; ++i) {
        std::snprintf(message, sizeof message, "%064lld", i);
        auto [reader, writer] = co_await asyncio::open_connection("127.0.0.1", port);
        writer.write(std::string_view(message, message_size));
        std::string got = co_await reader.readexactly(message_size);
        writer.close();
        co_await writer.wait_closed();
        ok += got == std::string_view(message, message_size);
    }
    auto stop = bench::Clock::now();
    server.close();
    co_await server.wait_closed();
    if (ok != n)
        bench::fail("echo_conn", "an echo came back wrong");
    bench::result("echo_conn", n, start, stop);
}

} // namespace

int main(int argc, char** argv) { asyncio::run(amain(bench::count_arg(argc, argv, 20000))); }
