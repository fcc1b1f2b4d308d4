// Streams at scale: 2,000 concurrent connections to one server, each echoing 100 lines; nothing
// is lost or reordered.
#include <gtest/gtest.h>

#include <algorithm>
#include <asyncio.hpp>
#include <string>
#include <sys/resource.h>
#include <vector>

#include "asyncio_test.hpp"
#include "net_test.hpp"

namespace {

using asyncio::Coro;
using asyncio::StreamReader;
using asyncio::StreamWriter;

class StreamScaleTest : public asyncio::testing::LoopTest {};

Coro<> echo_lines(StreamReader reader, StreamWriter writer) {
    for (;;) {
        std::string line = co_await reader.readline();
        if (line.empty())
            break;
        writer.write(line);
        co_await writer.drain();
    }
    writer.close();
}

// Each line carries the client and its sequence number, so a loss, a duplicate or a line of
// another connection shows as a mismatch.
Coro<int> echo_client(int port, int id, int messages) {
    auto [reader, writer] = co_await asyncio::open_connection("127.0.0.1", port);
    int in_order = 0;
    for (int i = 0; i < messages; ++i) {
        std::string msg = std::to_string(id) + ":" + std::to_string(i) + "\n";
        writer.write(msg);
        std::string echo = co_await reader.readline();
        in_order += echo == msg;
    }
    writer.close();
    co_await writer.wait_closed();
    co_return in_order;
}

TEST_F(StreamScaleTest, TwoThousandConnectionsEachEchoingOneHundredLines) {
    constexpr int clients = 2000, messages = 100;
    // Both ends of every connection are in this process: 4,000 descriptors and some.
    rlimit limit{};
    ASSERT_EQ(::getrlimit(RLIMIT_NOFILE, &limit), 0);
    if (limit.rlim_cur < 4200) {
        rlim_t wanted = std::min<rlim_t>(limit.rlim_max, 8192);
        if (wanted < 4200)
            GTEST_SKIP() << "RLIMIT_NOFILE's hard limit " << limit.rlim_max
                         << " is below the 4,200 descriptors this test needs";
        rlimit raised = limit;
        raised.rlim_cur = wanted;
        ASSERT_EQ(::setrlimit(RLIMIT_NOFILE, &raised), 0);
    }
    int total = run(asyncio::testing::bounded(
        []() -> Coro<int> {
            asyncio::ServerOptions options;
            options.backlog = 4096; // every client connects at once
            auto server = co_await asyncio::start_server(echo_lines, "127.0.0.1", 0, options);
            int port = server.sockets().at(0).port;
            std::vector<Coro<int>> tasks;
            for (int i = 0; i < clients; ++i)
                tasks.push_back(echo_client(port, i, messages));
            std::vector<int> counts = co_await asyncio::gather(std::move(tasks));
            server.close();
            co_await server.wait_closed();
            int sum = 0;
            for (int c : counts)
                sum += c;
            co_return sum;
        }(),
        120.0));
    EXPECT_EQ(total, clients * messages);
    ::setrlimit(RLIMIT_NOFILE, &limit);
}

} // namespace
