// asyncio.streams over loopback sockets: StreamReader, StreamWriter, open_connection,
// start_server (ports of CPython's test_streams.py, and fault cases).
// ctest-labels: thread
#include <gtest/gtest.h>

#include <asyncio.hpp>
#include <string>
#include <vector>

#include "asyncio_test.hpp"
#include "net_test.hpp"

namespace {

using asyncio::Coro;
using asyncio::StreamReader;
using asyncio::StreamWriter;
using asyncio::testing::bounded;

class StreamsTest : public asyncio::testing::LoopTest {};

Coro<> echo_lines(StreamReader reader, StreamWriter writer) {
    for (;;) {
        std::string line = co_await reader.readline();
        if (line.empty())
            break;
        writer.write(line);
        co_await writer.drain();
    }
    writer.close();
    co_await writer.wait_closed();
}

TEST_F(StreamsTest, EchoRoundTrip) {
    auto result = run(bounded([]() -> Coro<std::string> {
        auto server = co_await asyncio::start_server(echo_lines, "127.0.0.1", 0);
        int port = server.sockets().at(0).port;
        EXPECT_GT(port, 0);
        auto [reader, writer] = co_await asyncio::open_connection("127.0.0.1", port);
        writer.write("hello\n");
        co_await writer.drain();
        std::string line = co_await reader.readline();
        writer.close();
        co_await writer.wait_closed();
        server.close();
        co_await server.wait_closed();
        co_return line;
    }()));
    EXPECT_EQ(result, "hello\n");
}

} // namespace
