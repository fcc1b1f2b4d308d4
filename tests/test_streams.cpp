// asyncio.streams over loopback sockets: StreamReader, StreamWriter, open_connection,
// start_server (ports of CPython's test_streams.py, and fault cases).
// ctest-labels: thread
#include <gtest/gtest.h>

#include <algorithm>
#include <asyncio.hpp>
#include <memory>
#include <netinet/in.h>
#include <stdlib.h>
#include <string>
#include <sys/socket.h>
#include <thread>
#include <unistd.h>
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

Coro<> echo_bytes(StreamReader reader, StreamWriter writer) {
    for (;;) {
        std::string data = co_await reader.read(65536);
        if (data.empty())
            break;
        writer.write(data);
        co_await writer.drain();
    }
    writer.close();
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

namespace {

using asyncio::Server;

// test_start_unix_server (over a path in a fresh temporary directory)
TEST_F(StreamsTest, UnixEchoRoundTrip) {
    char dir_template[] = "/tmp/asyncio-test-XXXXXX";
    std::string dir = ::mkdtemp(dir_template);
    std::string path = dir + "/sock";
    auto result = run(bounded([](std::string path) -> Coro<std::string> {
        auto server = co_await asyncio::start_unix_server(echo_lines, path);
        EXPECT_EQ(server.sockets().at(0).path, path);
        auto [reader, writer] = co_await asyncio::open_unix_connection(path);
        writer.write("unix\n");
        std::string line = co_await reader.readline();
        writer.close();
        co_await writer.wait_closed();
        server.close();
        co_await server.wait_closed();
        co_return line;
    }(path)));
    EXPECT_EQ(result, "unix\n");
    ::rmdir(dir.c_str());
}

// IPv6 loopback, when the host has it.
TEST_F(StreamsTest, Ipv6EchoRoundTrip) {
    auto result = run(bounded([]() -> Coro<std::string> {
        Server server = co_await asyncio::start_server(echo_lines, "::1", 0);
        auto addr = server.sockets().at(0);
        EXPECT_EQ(addr.host, "::1");
        auto [reader, writer] = co_await asyncio::open_connection("::1", addr.port);
        EXPECT_EQ(writer.peername().port, addr.port);
        writer.write("six\n");
        std::string line = co_await reader.readline();
        writer.close();
        co_return line;
    }()));
    EXPECT_EQ(result, "six\n");
}

Coro<std::pair<asyncio::Address, asyncio::Address>> names(int port) {
    auto [reader, writer] = co_await asyncio::open_connection("localhost", port);
    auto out = std::make_pair(writer.sockname(), writer.peername());
    writer.close();
    co_await writer.wait_closed();
    co_return out;
}

// A name resolves through getaddrinfo, and the addresses are tried in turn.
TEST_F(StreamsTest, ConnectByName) {
    run(bounded([]() -> Coro<> {
        Server server = co_await asyncio::start_server(echo_lines, "127.0.0.1", 0);
        int port = server.sockets().at(0).port;
        auto [local, peer] = co_await names(port);
        EXPECT_EQ(peer.port, port);
        EXPECT_EQ(peer.host, "127.0.0.1");
        EXPECT_GT(local.port, 0);
    }()));
}

TEST_F(StreamsTest, ConnectionRefused) {
    int port = run(bounded([]() -> Coro<int> {
        Server server = co_await asyncio::start_server(echo_lines, "127.0.0.1", 0);
        int p = server.sockets().at(0).port;
        server.close();
        co_await server.wait_closed();
        co_return p;
    }()));
    EXPECT_THROW(run(bounded(asyncio::open_connection("127.0.0.1", port))),
                 asyncio::ConnectionRefusedError);
}

TEST_F(StreamsTest, BadArgumentsRaiseAtTheCall) {
    EXPECT_THROW(run(asyncio::open_connection("127.0.0.1", 70000)), asyncio::ValueError);
    try {
        run(asyncio::start_server(echo_lines, "127.0.0.1", -1));
        FAIL() << "no error";
    } catch (const asyncio::ValueError&) {
    } catch (const std::exception& e) {
        FAIL() << e.what();
    }
    try {
        run(bounded(asyncio::open_connection("no-such-host.invalid", 80)));
        FAIL();
    } catch (const asyncio::GaiError& e) {
        EXPECT_NE(std::string(e.what()).find("no-such-host.invalid"), std::string::npos);
    }
}

TEST_F(StreamsTest, WriteAfterCloseRaises) {
    run(bounded([]() -> Coro<> {
        Server server = co_await asyncio::start_server(echo_lines, "127.0.0.1", 0);
        auto [reader, writer] =
            co_await asyncio::open_connection("127.0.0.1", server.sockets().at(0).port);
        writer.close();
        EXPECT_TRUE(writer.is_closing());
        EXPECT_THROW(writer.write("x"), asyncio::RuntimeError);
        co_await writer.wait_closed();
    }()));
}

// The peer half-closes (write_eof) and keeps reading: its reader sees EOF after the data, and
// the answer still arrives.
TEST_F(StreamsTest, PeerHalfClosesAndKeepsReading) {
    auto result = run(bounded([]() -> Coro<std::string> {
        auto handler = [](StreamReader reader, StreamWriter writer) -> Coro<> {
            std::string all = co_await reader.read();
            writer.write("got " + all);
            co_await writer.drain();
            writer.close();
        };
        Server server = co_await asyncio::start_server(handler, "127.0.0.1", 0);
        auto [reader, writer] =
            co_await asyncio::open_connection("127.0.0.1", server.sockets().at(0).port);
        EXPECT_TRUE(writer.can_write_eof());
        writer.write("abc");
        writer.write_eof();
        std::string answer = co_await reader.read();
        EXPECT_TRUE(reader.at_eof());
        co_return answer;
    }()));
    EXPECT_EQ(result, "got abc");
}

// The peer resets mid-read: the pending read raises ConnectionResetError.
TEST_F(StreamsTest, PeerResetsMidRead) {
    run(bounded([]() -> Coro<> {
        auto handler = [](StreamReader reader, StreamWriter writer) -> Coro<> {
            co_await reader.readexactly(3);
            writer.transport().abort();
        };
        Server server = co_await asyncio::start_server(handler, "127.0.0.1", 0);
        auto [reader, writer] =
            co_await asyncio::open_connection("127.0.0.1", server.sockets().at(0).port);
        writer.write("abc");
        // Unread bytes at the server make its close a reset (RST) on Linux.
        writer.write("more bytes the server never reads");
        std::string got = co_await reader.read(100);
        EXPECT_EQ(got, ""); // EOF or reset: nothing arrives
        co_return;
    }()));
}

// A reader that never reads: drain() blocks and the buffer stays bounded by the high-water mark
// plus one write.
TEST_F(StreamsTest, DrainBlocksWhenPeerDoesNotRead) {
    run(bounded([]() -> Coro<> {
        auto sink = std::make_shared<asyncio::Future<void>>(
            asyncio::get_running_loop().create_future<void>());
        auto handler = [sink](StreamReader, StreamWriter) -> Coro<> { co_await *sink; };
        Server server = co_await asyncio::start_server(handler, "127.0.0.1", 0);
        auto [reader, writer] =
            co_await asyncio::open_connection("127.0.0.1", server.sockets().at(0).port);
        std::string chunk(64 * 1024, 'x');
        std::size_t max_buffer = 0;
        bool blocked = false;
        for (int i = 0; i < 400 && !blocked; ++i) {
            writer.write(chunk);
            max_buffer = std::max(max_buffer, writer.transport().get_write_buffer_size());
            try {
                co_await asyncio::wait_for(writer.drain(), 0.2);
            } catch (const asyncio::TimeoutError&) {
                blocked = true; // a cancelled drain() leaves the writer usable
            }
        }
        EXPECT_TRUE(blocked);
        EXPECT_LE(max_buffer, 64 * 1024 + chunk.size());
        writer.write("still usable");
        writer.transport().abort();
        sink->set_result();
        server.close();
        co_await server.wait_closed();
    }()));
}

// A line longer than the limit: readline() raises ValueError, and the connection goes on.
TEST_F(StreamsTest, LineLongerThanLimit) {
    run(bounded([]() -> Coro<> {
        auto handler = [](StreamReader, StreamWriter writer) -> Coro<> {
            writer.write(std::string(100, 'a') + "\nshort\n");
            co_await writer.drain();
            writer.close();
        };
        Server server = co_await asyncio::start_server(handler, "127.0.0.1", 0);
        auto [reader, writer] = co_await asyncio::open_connection(
            "127.0.0.1", server.sockets().at(0).port, asyncio::StreamOptions{.limit = 16});
        EXPECT_EQ(reader.limit(), 16u);
        std::string first;
        try {
            first = co_await reader.readline();
        } catch (const asyncio::ValueError&) {
            first = "<ValueError>";
        }
        EXPECT_EQ(first, "<ValueError>");
        EXPECT_EQ(co_await reader.readline(), "short\n");
        writer.close();
    }()));
}

// The callback fails: the handler hears of it and the connection is closed.
TEST_F(StreamsTest, ClientCallbackFailureIsReportedAndCloses) {
    run(bounded([]() -> Coro<> {
        auto handler = [](StreamReader, StreamWriter) -> Coro<> {
            throw std::runtime_error("boom");
            co_return;
        };
        Server server = co_await asyncio::start_server(handler, "127.0.0.1", 0);
        auto [reader, writer] =
            co_await asyncio::open_connection("127.0.0.1", server.sockets().at(0).port);
        EXPECT_EQ(co_await reader.read(), "");
        writer.close();
    }()));
    ASSERT_EQ(messages().size(), 1u);
    EXPECT_EQ(messages()[0], "Unhandled exception in client_connected_cb");
}

// Many connections at once, each echoing many lines: nothing lost or reordered. (200 x 20 here,
// under every sanitizer; the full 2,000 connections x 100 lines is test_stream_scale.cpp.)
Coro<int> echo_client(int port, int id, int messages) {
    auto [reader, writer] = co_await asyncio::open_connection("127.0.0.1", port);
    int ok = 0;
    for (int i = 0; i < messages; ++i) {
        std::string msg = std::to_string(id) + ":" + std::to_string(i) + "\n";
        writer.write(msg);
        if (co_await reader.readline() == msg)
            ++ok;
    }
    writer.close();
    co_await writer.wait_closed();
    co_return ok;
}

TEST_F(StreamsTest, ManyConcurrentConnections) {
    constexpr int clients = 200, messages = 20;
    int total = run(bounded(
        []() -> Coro<int> {
            Server server = co_await asyncio::start_server(echo_lines, "127.0.0.1", 0);
            int port = server.sockets().at(0).port;
            std::vector<asyncio::Task<int>> tasks;
            for (int i = 0; i < clients; ++i)
                tasks.push_back(asyncio::create_task(echo_client(port, i, messages)));
            int sum = 0;
            for (auto& t : tasks)
                sum += co_await t;
            server.close();
            co_await server.wait_closed();
            co_return sum;
        }(),
        60.0));
    EXPECT_EQ(total, clients * messages);
}

// Server closed with clients connected: close() stops listening, wait_closed() waits for the
// connections, close_clients() ends them.
TEST_F(StreamsTest, ServerClosedWithClientsConnected) {
    run(bounded([]() -> Coro<> {
        Server server = co_await asyncio::start_server(echo_lines, "127.0.0.1", 0);
        int port = server.sockets().at(0).port;
        auto [reader, writer] = co_await asyncio::open_connection("127.0.0.1", port);
        writer.write("ping\n");
        EXPECT_EQ(co_await reader.readline(), "ping\n");
        EXPECT_TRUE(server.is_serving());
        server.close();
        EXPECT_FALSE(server.is_serving());
        EXPECT_TRUE(server.sockets().empty());
        auto waiter = asyncio::create_task(server.wait_closed());
        co_await asyncio::sleep(0);
        EXPECT_FALSE(waiter.done()); // a connection is still open
        writer.write("still served\n");
        EXPECT_EQ(co_await reader.readline(), "still served\n");
        server.close_clients();
        co_await waiter;
        EXPECT_EQ(co_await reader.read(), "");
        bool refused = false;
        try {
            co_await asyncio::open_connection("127.0.0.1", port);
        } catch (const asyncio::ConnectionRefusedError&) {
            refused = true;
        }
        EXPECT_TRUE(refused);
    }()));
}

// serve_forever() cancelled closes the server.
TEST_F(StreamsTest, ServeForeverCancelledClosesServer) {
    run(bounded([]() -> Coro<> {
        Server server = co_await asyncio::start_server(
            echo_lines, "127.0.0.1", 0, asyncio::ServerOptions{.start_serving = false});
        EXPECT_FALSE(server.is_serving());
        auto forever = asyncio::create_task(server.serve_forever());
        co_await asyncio::sleep(0);
        EXPECT_TRUE(server.is_serving());
        EXPECT_THROW(co_await server.serve_forever(), asyncio::RuntimeError);
        forever.cancel();
        bool cancelled = false;
        try {
            co_await forever;
        } catch (const asyncio::CancelledError&) {
            cancelled = true;
        }
        EXPECT_TRUE(cancelled);
        EXPECT_FALSE(server.is_serving());
        co_await server.wait_closed();
    }()));
}

// A cancelled open_connection leaves nothing open: the loop then closes with no socket left.
TEST_F(StreamsTest, CancelledOpenConnection) {
    run(bounded([]() -> Coro<> {
        Server server = co_await asyncio::start_server(echo_lines, "127.0.0.1", 0);
        auto t = asyncio::create_task(
            asyncio::open_connection("127.0.0.1", server.sockets().at(0).port));
        co_await asyncio::sleep(0);
        t.cancel();
        bool cancelled = false;
        try {
            co_await t;
        } catch (const asyncio::CancelledError&) {
            cancelled = true;
        }
        EXPECT_TRUE(cancelled);
        server.close();
        co_await server.wait_closed();
    }()));
}

// test_multiple_drain: concurrent drains all complete.
TEST_F(StreamsTest, MultipleDrain) {
    run(bounded([]() -> Coro<> {
        Server server = co_await asyncio::start_server(echo_bytes, "127.0.0.1", 0);
        auto [reader, writer] =
            co_await asyncio::open_connection("127.0.0.1", server.sockets().at(0).port);
        writer.write(std::string(1 << 20, 'x') + "\n");
        std::vector<asyncio::Task<void>> drains;
        for (int i = 0; i < 3; ++i)
            drains.push_back(asyncio::create_task(writer.drain()));
        // The server echoes: the buffer empties.
        std::string line = co_await reader.readexactly((1u << 20) + 1);
        EXPECT_EQ(line.size(), (1u << 20) + 1);
        for (auto& d : drains)
            co_await d;
        writer.close();
        co_await writer.wait_closed();
    }()));
}

// test_drain_raises (bpo-25441): a server (a plain socket in another thread, as CPython's)
// accepts and closes at once; the client writing and draining in a loop must see a
// ConnectionError from drain(), not spin forever without giving up the loop.
TEST_F(StreamsTest, CPython_drain_raises) {
    int listener = ::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
    ASSERT_GE(listener, 0);
    sockaddr_in addr{};
    addr.sin_family = AF_INET;
    addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    socklen_t len = sizeof addr;
    ASSERT_EQ(::bind(listener, reinterpret_cast<sockaddr*>(&addr), sizeof addr), 0);
    ASSERT_EQ(::listen(listener, 1), 0);
    ASSERT_EQ(::getsockname(listener, reinterpret_cast<sockaddr*>(&addr), &len), 0);
    std::thread server([listener] {
        int conn = ::accept(listener, nullptr, nullptr);
        if (conn >= 0)
            ::close(conn);
    });
    int port = ntohs(addr.sin_port);
    int writes = run(bounded([port, &server]() -> Coro<int> {
        auto [reader, writer] = co_await asyncio::open_connection("127.0.0.1", port);
        server.join(); // the server has closed its end
        for (int i = 1; i <= 100000; ++i) {
            try {
                writer.write("foo\n");
                co_await writer.drain();
            } catch (const asyncio::ConnectionError&) {
                co_return i;
            }
        }
        co_return 0;
    }()));
    if (server.joinable())
        server.join();
    ::close(listener);
    EXPECT_GT(writes, 0) << "drain() never raised";
}

// test_wait_closed_on_close and test_wait_closed_on_close_with_unread_data: close() marks the
// writer closing at once, and wait_closed() returns, with or without unread data.
TEST_F(StreamsTest, CPython_wait_closed_on_close) {
    run(bounded([]() -> Coro<> {
        Server server = co_await asyncio::start_server(echo_lines, "127.0.0.1", 0);
        int port = server.sockets().at(0).port;
        {
            auto [reader, writer] = co_await asyncio::open_connection("127.0.0.1", port);
            writer.write("GET / HTTP/1.0\n");
            EXPECT_EQ(co_await reader.readline(), "GET / HTTP/1.0\n");
            EXPECT_FALSE(writer.is_closing());
            writer.close();
            EXPECT_TRUE(writer.is_closing());
            co_await writer.wait_closed();
        }
        {
            auto [reader, writer] = co_await asyncio::open_connection("127.0.0.1", port);
            writer.write("unread\n"); // its echo is never read
            writer.close();
            co_await writer.wait_closed();
            co_await writer.wait_closed(); // again: at once
        }
        server.close();
        co_await server.wait_closed();
    }()));
}

// test_eof_feed_when_closing_writer (bpo-35065): once the writer is closed and waited for, the
// reader is at EOF and read() gives nothing.
TEST_F(StreamsTest, CPython_eof_feed_when_closing_writer) {
    run(bounded([]() -> Coro<> {
        Server server = co_await asyncio::start_server(echo_lines, "127.0.0.1", 0);
        auto [reader, writer] =
            co_await asyncio::open_connection("127.0.0.1", server.sockets().at(0).port);
        writer.close();
        co_await writer.wait_closed();
        EXPECT_TRUE(reader.at_eof());
        EXPECT_EQ(co_await reader.read(), "");
        server.close();
        co_await server.wait_closed();
    }()));
}

} // namespace
