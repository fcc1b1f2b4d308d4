// asyncio.Server (ports of CPython's test_server.py): serving, closing, waiting for the close,
// closing and aborting the clients, Unix socket files.
// ctest-labels: thread
#include <gtest/gtest.h>

#include <asyncio.hpp>
#include <memory>
#include <optional>
#include <stdlib.h>
#include <string>
#include <sys/stat.h>
#include <unistd.h>

#include "asyncio_test.hpp"
#include "net_test.hpp"

namespace {

using asyncio::Coro;
using asyncio::Server;
using asyncio::StreamReader;
using asyncio::StreamWriter;
using asyncio::testing::bounded;

class ServerTest : public asyncio::testing::LoopTest {};

// A fresh path for a Unix socket, in a directory of its own.
struct SocketPath {
    std::string dir;
    std::string path;
    SocketPath() {
        char dir_template[] = "/tmp/asyncio-server-XXXXXX";
        dir = ::mkdtemp(dir_template);
        path = dir + "/sock";
    }
    ~SocketPath() {
        ::unlink(path.c_str());
        ::rmdir(dir.c_str());
    }
    bool exists() const {
        struct stat st {};
        return ::stat(path.c_str(), &st) == 0;
    }
};

// The handler of test_start_server_1: reads a line, cancels the serving task, answers "1".
Coro<> serve_then_cancel(std::shared_ptr<asyncio::Task<>> main_task, StreamReader reader,
                         StreamWriter writer) {
    co_await reader.readline();
    main_task->cancel();
    writer.write("1");
    writer.close();
    co_await writer.wait_closed();
}

Coro<> hello_client(Server srv, bool unix_socket, std::string where, int port) {
    std::optional<std::pair<StreamReader, StreamWriter>> made;
    if (unix_socket)
        made = co_await asyncio::open_unix_connection(where);
    else
        made = co_await asyncio::open_connection(where, port);
    auto& conn = *made;
    EXPECT_TRUE(srv.is_serving());
    conn.second.write(std::string(5 * 1024, '1') + "\n");
    std::string answer = co_await conn.first.readexactly(1);
    EXPECT_EQ(answer, "1");
    conn.second.close();
}

// test_start_server_1, test_start_unix_server_1: serve_forever() starts a server made with
// start_serving = false; cancelling it closes the server, which cannot serve again.
TEST_F(ServerTest, CPython_start_server_1_and_start_unix_server_1) {
    for (bool unix_socket : {false, true}) {
        SocketPath path;
        run(bounded([](bool unix_socket, std::string path) -> Coro<> {
            auto main_task = std::make_shared<asyncio::Task<>>();
            auto handler = [main_task](StreamReader r, StreamWriter w) {
                return serve_then_cancel(main_task, std::move(r), std::move(w));
            };
            asyncio::ServerOptions options;
            options.start_serving = false;
            // (g++ 12 miscompiles co_await in both arms of ?:, so the arms are statements.)
            std::optional<Server> made;
            if (unix_socket)
                made = co_await asyncio::start_unix_server(handler, path, options);
            else
                made = co_await asyncio::start_server(handler, "127.0.0.1", 0, options);
            Server srv = *made;
            EXPECT_FALSE(srv.is_serving());
            int port = unix_socket ? 0 : srv.sockets().at(0).port;
            *main_task = asyncio::create_task(srv.serve_forever());
            co_await asyncio::sleep(0);
            std::string where = unix_socket ? path : std::string("127.0.0.1");
            co_await hello_client(srv, unix_socket, where, port);
            EXPECT_THROW(co_await *main_task, asyncio::CancelledError);
            EXPECT_TRUE(srv.sockets().empty());
            EXPECT_FALSE(srv.is_serving());
            EXPECT_THROW(co_await srv.serve_forever(), asyncio::RuntimeError);
        }(unix_socket, path.path)));
    }
}

Coro<> read_then_close(StreamReader reader, StreamWriter writer) {
    try {
        co_await reader.read();
    } catch (...) {
    }
    writer.close();
    co_await writer.wait_closed();
}

// test_wait_closed_basic: wait_closed() waits for the close and for every connection.
TEST_F(ServerTest, CPython_wait_closed_basic) {
    run(bounded([]() -> Coro<> {
        Server srv = co_await asyncio::start_server(read_then_close, "127.0.0.1", 0);
        auto task1 = asyncio::create_task(srv.wait_closed());
        co_await asyncio::sleep(0);
        EXPECT_FALSE(task1.done()); // no connection, not closed

        auto [rd, wr] = co_await asyncio::open_connection("127.0.0.1", srv.sockets().at(0).port);
        auto task2 = asyncio::create_task(srv.wait_closed());
        co_await asyncio::sleep(0);
        EXPECT_FALSE(task1.done()); // a connection, not closed
        EXPECT_FALSE(task2.done());

        srv.close();
        co_await asyncio::sleep(0);
        auto task3 = asyncio::create_task(srv.wait_closed());
        co_await asyncio::sleep(0);
        EXPECT_FALSE(task1.done()); // a connection, closed
        EXPECT_FALSE(task2.done());
        EXPECT_FALSE(task3.done());

        wr.close();
        co_await wr.wait_closed();
        co_await task1; // no connection, closed
        co_await task2;
        co_await task3;
        co_await srv.wait_closed(); // at once
    }()));
}

// test_wait_closed_race: the server and the connection close in the same iteration.
TEST_F(ServerTest, CPython_wait_closed_race) {
    run(bounded([]() -> Coro<> {
        Server srv = co_await asyncio::start_server(read_then_close, "127.0.0.1", 0);
        auto task = asyncio::create_task(srv.wait_closed());
        co_await asyncio::sleep(0);
        EXPECT_FALSE(task.done());
        auto [rd, wr] = co_await asyncio::open_connection("127.0.0.1", srv.sockets().at(0).port);
        auto& loop = asyncio::get_running_loop();
        loop.call_soon([srv]() mutable { srv.close(); });
        loop.call_soon([wr = wr]() mutable { wr.close(); });
        co_await srv.wait_closed();
        co_await task;
    }()));
}

// test_close_clients: close_clients() ends the connections, and wait_closed() returns.
TEST_F(ServerTest, CPython_close_clients) {
    run(bounded([]() -> Coro<> {
        Server srv = co_await asyncio::start_server(read_then_close, "127.0.0.1", 0);
        auto [rd, wr] = co_await asyncio::open_connection("127.0.0.1", srv.sockets().at(0).port);
        auto task = asyncio::create_task(srv.wait_closed());
        co_await asyncio::sleep(0);
        EXPECT_FALSE(task.done());
        srv.close();
        srv.close_clients();
        co_await task;
        std::string rest = co_await rd.read();
        EXPECT_EQ(rest, "");
        wr.close();
    }()));
}

// test_abort_clients: abort_clients() ends connections whose buffers are full at once, without
// waiting for them to flush.
TEST_F(ServerTest, CPython_abort_clients) {
    run(bounded([]() -> Coro<> {
        auto accepted = std::make_shared<asyncio::Future<StreamWriter>>(
            asyncio::get_running_loop().create_future<StreamWriter>());
        auto handler = [accepted](StreamReader, StreamWriter w) -> Coro<> {
            accepted->set_result(w);
            co_await w.wait_closed();
        };
        Server srv = co_await asyncio::start_server(handler, "127.0.0.1", 0);
        auto [c_rd, c_wr] = co_await asyncio::open_connection(
            "127.0.0.1", srv.sockets().at(0).port, asyncio::StreamOptions{.limit = 4096});
        StreamWriter s_wr = co_await *accepted;
        // Fill the client's buffer (its reading pauses) and the kernel's, until the server's
        // transport buffers what it cannot send.
        std::string block(64 * 1024, 'a');
        for (int i = 0; i < 200 && s_wr.transport().get_write_buffer_size() == 0; ++i) {
            s_wr.write(block);
            co_await asyncio::sleep(0);
        }
        EXPECT_GT(s_wr.transport().get_write_buffer_size(), 0u);
        auto task = asyncio::create_task(srv.wait_closed());
        co_await asyncio::sleep(0);
        EXPECT_FALSE(task.done());
        srv.close();
        srv.abort_clients();
        co_await task;
        c_wr.close();
    }()));
}

// test_close_race: the server is closed while a connection it accepted is being set up.
TEST_F(ServerTest, CPython_close_race) {
    run(bounded([]() -> Coro<> {
        Server srv = co_await asyncio::start_server(read_then_close, "127.0.0.1", 0);
        int port = srv.sockets().at(0).port;
        auto conn = asyncio::create_task(asyncio::open_connection("127.0.0.1", port));
        co_await asyncio::sleep(0);
        co_await asyncio::sleep(0);
        srv.close();
        try {
            auto [rd, wr] = co_await conn;
            wr.close();
        } catch (const asyncio::OSError&) {
        }
        co_await srv.wait_closed();
    }()));
    EXPECT_TRUE(reports.empty());
}

Coro<> ignore(StreamReader, StreamWriter) { co_return; }

// test_unix_server_addr_cleanup: closing the server removes its socket file.
TEST_F(ServerTest, CPython_unix_server_addr_cleanup) {
    SocketPath path;
    run(bounded([](const SocketPath& path) -> Coro<> {
        Server srv = co_await asyncio::start_unix_server(ignore, path.path);
        EXPECT_TRUE(path.exists());
        srv.close();
        EXPECT_FALSE(path.exists());
    }(path)));
}

// test_unix_server_cleanup_gone: the file was removed by someone else; close() is quiet.
TEST_F(ServerTest, CPython_unix_server_cleanup_gone) {
    SocketPath path;
    run(bounded([](const SocketPath& path) -> Coro<> {
        Server srv = co_await asyncio::start_unix_server(ignore, path.path);
        ::unlink(path.path.c_str());
        srv.close();
        co_await srv.wait_closed();
    }(path)));
    EXPECT_TRUE(reports.empty());
}

// test_unix_server_cleanup_replaced: another socket took the path; close() leaves it.
TEST_F(ServerTest, CPython_unix_server_cleanup_replaced) {
    SocketPath path;
    run(bounded([](const SocketPath& path) -> Coro<> {
        Server srv = co_await asyncio::start_unix_server(ignore, path.path);
        ::unlink(path.path.c_str());
        Server other = co_await asyncio::start_unix_server(ignore, path.path);
        srv.close();
        EXPECT_TRUE(path.exists());
        other.close();
        EXPECT_FALSE(path.exists());
    }(path)));
}

// test_unix_server_cleanup_prevented: cleanup_socket = false keeps the file.
TEST_F(ServerTest, CPython_unix_server_cleanup_prevented) {
    SocketPath path;
    run(bounded([](const SocketPath& path) -> Coro<> {
        asyncio::ServerOptions options;
        options.cleanup_socket = false;
        Server srv = co_await asyncio::start_unix_server(ignore, path.path, options);
        srv.close();
        EXPECT_TRUE(path.exists());
    }(path)));
}

} // namespace
