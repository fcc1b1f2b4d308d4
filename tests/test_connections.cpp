// loop.create_server / create_connection and their Unix forms, what test_protocols.cpp leaves
// out (ports of CPython's test_events.py: test_create_server_addr_in_use,
// test_create_server_reuse_port, test_create_server_dual_stack, test_server_close,
// test_create_unix_server_path_socket_error, test_create_connection's names), and the process
// running out of descriptors while accepting.
// ctest-labels: thread
#include <gtest/gtest.h>

#include <asyncio.hpp>
#include <cerrno>
#include <cstdint>
#include <memory>
#include <netinet/in.h>
#include <stdlib.h>
#include <string>
#include <sys/resource.h>
#include <sys/socket.h>
#include <unistd.h>
#include <vector>

#include "asyncio_test.hpp"
#include "net_test.hpp"

namespace {

using asyncio::Coro;
using asyncio::Server;
using asyncio::testing::bounded;

class ConnectionsTest : public asyncio::testing::LoopTest {};

struct Quiet : asyncio::Protocol {};

std::unique_ptr<Quiet> quiet() { return std::make_unique<Quiet>(); }

// test_create_server_addr_in_use: a second server on a port in use is an OSError (EADDRINUSE)
// naming the address, and leaves nothing open.
TEST_F(ConnectionsTest, CPython_create_server_addr_in_use) {
    run(bounded([]() -> Coro<> {
        auto& loop = asyncio::get_running_loop();
        Server first = co_await loop.create_server(quiet, "127.0.0.1", 0);
        int port = first.sockets().at(0).port;
        bool raised = false;
        try {
            Server second = co_await loop.create_server(quiet, "127.0.0.1", port);
        } catch (const asyncio::OSError& e) {
            raised = true;
            EXPECT_EQ(e.code().value(), EADDRINUSE);
            EXPECT_NE(std::string(e.what()).find("127.0.0.1:" + std::to_string(port)),
                      std::string::npos)
                << e.what();
        }
        EXPECT_TRUE(raised);
        first.close();
        co_await first.wait_closed();
    }()));
}

// test_create_server_reuse_port: with reuse_port both servers listen on one port.
TEST_F(ConnectionsTest, CPython_create_server_reuse_port) {
    run(bounded([]() -> Coro<> {
        auto& loop = asyncio::get_running_loop();
        asyncio::ServerOptions shared;
        shared.reuse_port = true;
        Server first = co_await loop.create_server(quiet, "127.0.0.1", 0, shared);
        int port = first.sockets().at(0).port;
        Server second = co_await loop.create_server(quiet, "127.0.0.1", port, shared);
        EXPECT_EQ(second.sockets().at(0).port, port);
        first.close();
        second.close();
        co_await first.wait_closed();
        co_await second.wait_closed();
    }()));
}

// test_create_server_dual_stack, on loopback: a name with an IPv4 and an IPv6 address binds both,
// on one port, and each accepts.
TEST_F(ConnectionsTest, CPython_create_server_dual_stack_by_name) {
    run(bounded([]() -> Coro<> {
        auto& loop = asyncio::get_running_loop();
        auto infos = co_await loop.getaddrinfo("localhost", 0, 0, SOCK_STREAM);
        bool v4 = false, v6 = false;
        for (const auto& info : infos) {
            v4 = v4 || info.family == AF_INET;
            v6 = v6 || info.family == AF_INET6;
        }
        if (!v4 || !v6) {
            // This machine's "localhost" has one family only: nothing to check.
            co_return;
        }
        auto handler = [](asyncio::StreamReader r, asyncio::StreamWriter w) -> Coro<> {
            std::string line = co_await r.readline();
            w.write(line);
            w.close();
        };
        Server srv = co_await asyncio::start_server(handler, "localhost", 0);
        auto sockets = srv.sockets();
        EXPECT_EQ(sockets.size(), 2u);
        if (sockets.size() == 2) {
            EXPECT_EQ(sockets[0].port, sockets[1].port);
        }
        for (int family = 0; family < 2; ++family) {
            std::string host = family == 0 ? std::string("127.0.0.1") : std::string("::1");
            auto [reader, writer] = co_await asyncio::open_connection(host, sockets[0].port);
            writer.write("hi\n");
            std::string line = co_await reader.readline();
            EXPECT_EQ(line, "hi\n");
            writer.close();
        }
        srv.close();
        co_await srv.wait_closed();
    }()));
}

// test_server_close: a closed server refuses connections; its port is free again.
TEST_F(ConnectionsTest, CPython_server_close) {
    run(bounded([]() -> Coro<> {
        auto& loop = asyncio::get_running_loop();
        Server srv = co_await loop.create_server(quiet, "127.0.0.1", 0);
        int port = srv.sockets().at(0).port;
        auto [t, p] = co_await loop.create_connection(quiet, "127.0.0.1", port);
        t.close();
        srv.close();
        co_await srv.wait_closed();
        EXPECT_THROW(co_await loop.create_connection(quiet, "127.0.0.1", port),
                     asyncio::ConnectionRefusedError);
        Server again = co_await loop.create_server(quiet, "127.0.0.1", port);
        again.close();
    }()));
}

// test_create_unix_server_path_socket_error and a missing socket file: clear errors at the call.
TEST_F(ConnectionsTest, CPython_unix_paths) {
    char dir_template[] = "/tmp/asyncio-conn-XXXXXX";
    std::string dir = ::mkdtemp(dir_template);
    run(bounded([](std::string dir) -> Coro<> {
        auto& loop = asyncio::get_running_loop();
        EXPECT_THROW(co_await loop.create_unix_connection(quiet, dir + "/missing"),
                     asyncio::FileNotFoundError);
        EXPECT_THROW(co_await loop.create_unix_server(quiet, dir + "/no/such/dir/sock"),
                     asyncio::OSError);
        EXPECT_THROW(co_await loop.create_unix_server(quiet, ""), asyncio::ValueError);
        std::string path = dir + "/sock";
        Server srv = co_await loop.create_unix_server(quiet, path);
        EXPECT_EQ(srv.sockets().at(0).path, path);
        auto [t, p] = co_await loop.create_unix_connection(quiet, path);
        EXPECT_EQ(t.peername().path, path);
        EXPECT_EQ(t.peername().str(), path);
        t.close();
        srv.close();
        co_await srv.wait_closed();
    }(dir)));
    ::rmdir(dir.c_str());
}

// test_create_connection's names: sockname and peername of both ends agree.
TEST_F(ConnectionsTest, CPython_create_connection_names) {
    run(bounded([]() -> Coro<> {
        auto& loop = asyncio::get_running_loop();
        auto accepted = std::make_shared<asyncio::Future<asyncio::Address>>(
            loop.create_future<asyncio::Address>());
        auto handler = [accepted](asyncio::StreamReader, asyncio::StreamWriter w) -> Coro<> {
            accepted->set_result(w.peername());
            co_return;
        };
        Server srv = co_await asyncio::start_server(handler, "127.0.0.1", 0);
        int port = srv.sockets().at(0).port;
        auto [t, p] = co_await loop.create_connection(quiet, "127.0.0.1", port);
        asyncio::Address server_side_peer = co_await *accepted;
        EXPECT_EQ(t.peername().host, "127.0.0.1");
        EXPECT_EQ(t.peername().port, port);
        EXPECT_EQ(t.sockname().host, "127.0.0.1");
        EXPECT_EQ(t.sockname().port, server_side_peer.port);
        EXPECT_EQ(t.peername().str(), "127.0.0.1:" + std::to_string(port));
        t.close();
        srv.close();
        co_await srv.wait_closed();
    }()));
}

// Connects `n` clients (raw sockets) to `port`, each sending `hello` (when not empty), and
// waits, through add_reader, until every connection has ended (EOF or reset). Returns how many
// received data first.
Coro<int> clients_until_all_end(int port, int n, std::string hello) {
    auto& loop = asyncio::get_running_loop();
    sockaddr_in to{};
    to.sin_family = AF_INET;
    to.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    to.sin_port = htons(static_cast<std::uint16_t>(port));
    std::vector<int> fds;
    for (int i = 0; i < n; ++i)
        fds.push_back(::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0));
    int ended = 0, got_data = 0;
    asyncio::Future<> all_ended = loop.create_future();
    for (int fd : fds) {
        EXPECT_EQ(::connect(fd, reinterpret_cast<sockaddr*>(&to), sizeof to), 0);
        if (!hello.empty()) {
            EXPECT_EQ(::write(fd, hello.data(), hello.size()), static_cast<ssize_t>(hello.size()));
        }
        bool counted = false;
        loop.add_reader(fd, [&, fd, counted]() mutable {
            char buf[64];
            if (::read(fd, buf, sizeof buf) > 0) {
                if (!counted)
                    ++got_data;
                counted = true;
                return;
            }
            loop.remove_reader(fd);
            if (++ended == n)
                all_ended.set_result();
        });
    }
    std::exception_ptr failed;
    try {
        co_await asyncio::wait_for(all_ended, 5);
    } catch (...) {
        failed = std::current_exception();
    }
    for (int fd : fds) {
        loop.remove_reader(fd);
        ::close(fd);
    }
    if (failed)
        std::rethrow_exception(failed);
    co_return got_data;
}

// The process runs out of file descriptors while connections wait to be accepted: the server
// drops them (libuv closes each at once with the descriptor it keeps in reserve, so the clients
// see the connection end instead of hanging) and keeps listening; once descriptors are free
// again it accepts and serves a new connection.
// The first round, with descriptors to spare, is served; it also runs every code path of the
// second once, so that UBSan has checked those types before descriptors run out (its check of an
// unknown type's vtable needs a pipe).
TEST_F(ConnectionsTest, OutOfDescriptorsWhileAcceptingThenServingAgain) {
    run(bounded([&]() -> Coro<> {
        auto echo = [](asyncio::StreamReader r, asyncio::StreamWriter w) -> Coro<> {
            std::string line = co_await r.readline();
            w.write(line);
            co_await w.drain();
            w.close();
        };
        Server srv = co_await asyncio::start_server(echo, "127.0.0.1", 0);
        int port = srv.sockets().at(0).port;
        EXPECT_EQ(co_await clients_until_all_end(port, 4, "hello\n"), 4);

        // From here no new descriptor can be made: the limit is the lowest free one, less the
        // four client sockets still to be made.
        rlimit before{};
        ::getrlimit(RLIMIT_NOFILE, &before);
        int lowest_free = ::dup(0);
        ::close(lowest_free);
        rlimit low = before;
        low.rlim_cur = static_cast<rlim_t>(lowest_free + 4);
        ::setrlimit(RLIMIT_NOFILE, &low);
        int got_data = -1;
        std::exception_ptr failed;
        try {
            got_data = co_await clients_until_all_end(port, 4, "");
        } catch (...) {
            failed = std::current_exception();
        }
        ::setrlimit(RLIMIT_NOFILE, &before);
        if (failed)
            std::rethrow_exception(failed);
        EXPECT_EQ(got_data, 0); // none was served: each was dropped

        auto [reader, writer] = co_await asyncio::open_connection("127.0.0.1", port);
        writer.write("still serving\n");
        EXPECT_EQ(co_await reader.readline(), "still serving\n");
        writer.close();
        srv.close();
        co_await srv.wait_closed();
    }()));
}

} // namespace
