// loop.create_datagram_endpoint, DatagramTransport and DatagramProtocol over loopback UDP (port
// 0): ports of CPython's test_events.py (test_create_datagram_endpoint), test_base_events.py
// (the create_datagram_endpoint argument and bind cases) and test_selector_events.py
// (DatagramTransport's sendto cases), and the faults. Every wait is bounded.
// ctest-labels: thread
#include <gtest/gtest.h>

#include <asyncio.hpp>
#include <cerrno>
#include <memory>
#include <netinet/in.h>
#include <string>
#include <sys/socket.h>
#include <unistd.h>
#include <vector>

#include "asyncio_test.hpp"
#include "net_test.hpp"

namespace {

using asyncio::Address;
using asyncio::Coro;
using asyncio::DatagramTransport;
using asyncio::testing::bounded;

// What an endpoint heard, kept by the test past the protocol (which goes with its transport
// once connection_lost() has returned).
struct Log {
    std::vector<std::string> events;
    std::optional<asyncio::Future<>> lost;
    std::exception_ptr lost_with;
};

// Records what the endpoint hears; `next` (when set) gets the next datagram, `error` the next
// error_received().
struct Recorder : asyncio::DatagramProtocol {
    std::shared_ptr<Log> log = std::make_shared<Log>();
    DatagramTransport* transport = nullptr;
    std::optional<asyncio::Future<std::pair<std::string, Address>>> next;
    std::optional<asyncio::Future<std::exception_ptr>> error;
    bool echo = false;                        // answer every datagram with "resp:" + it
    std::optional<asyncio::Future<>> counted; // set once `remaining` more datagrams came
    int remaining = 0;

    void connection_made(DatagramTransport& t) override {
        transport = &t;
        log->events.push_back("made");
    }
    void datagram_received(std::string_view data, const Address& from) override {
        log->events.push_back("received " + std::string(data));
        if (echo)
            transport->sendto("resp:" + std::string(data), from);
        if (next && !next->done())
            next->set_result({std::string(data), from});
        if (counted && --remaining == 0)
            counted->set_result();
    }
    void error_received(std::exception_ptr e) override {
        log->events.push_back("error");
        if (error && !error->done())
            error->set_result(e);
    }
    void connection_lost(std::exception_ptr e) override {
        log->events.push_back("lost");
        log->lost_with = e;
        if (log->lost && !log->lost->done())
            log->lost->set_result();
    }
};

std::unique_ptr<Recorder> recorder() { return std::make_unique<Recorder>(); }

Coro<std::pair<std::string, Address>> next_datagram(Recorder& r) {
    r.next = asyncio::get_running_loop().create_future<std::pair<std::string, Address>>();
    co_return co_await *r.next;
}

// Closes the endpoint and waits for connection_lost(); the transport and the protocol are gone
// then, the log stays.
Coro<std::shared_ptr<Log>> close_and_wait(DatagramTransport& t, Recorder& r) {
    std::shared_ptr<Log> log = r.log;
    log->lost = asyncio::get_running_loop().create_future();
    t.close();
    co_await *log->lost;
    co_return log;
}

class DatagramTest : public asyncio::testing::LoopTest {};

// test_create_datagram_endpoint: an echoing endpoint and a client connected to it; the client's
// datagram comes back; each protocol hears made, its datagrams, lost, in that order.
TEST_F(DatagramTest, CPython_create_datagram_endpoint) {
    std::vector<std::string> server_events, client_events;
    run(bounded([&]() -> Coro<> {
        auto& loop = asyncio::get_running_loop();
        auto [st, server] =
            co_await loop.create_datagram_endpoint(recorder, Address{"127.0.0.1", 0});
        server.echo = true;
        Address at = st.sockname();
        EXPECT_EQ(at.host, "127.0.0.1");
        EXPECT_GT(at.port, 0);
        EXPECT_EQ(st.peername(), Address{});

        auto [ct, client] = co_await loop.create_datagram_endpoint(recorder, std::nullopt, at);
        EXPECT_EQ(ct.peername(), at);
        EXPECT_EQ(ct.sockname().host, "127.0.0.1");
        EXPECT_EQ(client.log->events, std::vector<std::string>{"made"});
        ct.sendto("xxx");
        auto [data, from] = co_await next_datagram(client);
        EXPECT_EQ(data, "resp:xxx");
        EXPECT_EQ(from, at);
        EXPECT_EQ(ct.get_write_buffer_size(), 0u);
        EXPECT_FALSE(ct.is_closing());
        client_events = (co_await close_and_wait(ct, client))->events;
        server_events = (co_await close_and_wait(st, server))->events;
    }()));
    EXPECT_EQ(server_events, (std::vector<std::string>{"made", "received xxx", "lost"}));
    EXPECT_EQ(client_events, (std::vector<std::string>{"made", "received resp:xxx", "lost"}));
}

// An endpoint bound but not connected sends to the address given, and hears who answered; an
// empty datagram is a datagram.
TEST_F(DatagramTest, UnconnectedSendtoAndEmptyDatagrams) {
    run(bounded([&]() -> Coro<> {
        auto& loop = asyncio::get_running_loop();
        auto [st, server] =
            co_await loop.create_datagram_endpoint(recorder, Address{"127.0.0.1", 0});
        server.echo = true;
        auto [ct, client] =
            co_await loop.create_datagram_endpoint(recorder, Address{"127.0.0.1", 0});
        ct.sendto("", st.sockname());
        auto [data, from] = co_await next_datagram(client);
        EXPECT_EQ(data, "resp:");
        EXPECT_EQ(from, st.sockname());
        EXPECT_EQ(server.log->events.at(1), "received ");
        client.counted = loop.create_future();
        client.remaining = 100;
        for (int i = 0; i < 100; ++i)
            ct.sendto(std::to_string(i), st.sockname());
        co_await *client.counted; // loopback loses none of them
        ct.close();
        st.close();
    }()));
}

// test_create_datagram_endpoint_noaddr and test_selector_events' sendto argument cases: each
// misuse is a ValueError or RuntimeError at the call.
TEST_F(DatagramTest, CPython_datagram_argument_errors) {
    run(bounded([&]() -> Coro<> {
        auto& loop = asyncio::get_running_loop();
        bool raised = false;
        try {
            co_await loop.create_datagram_endpoint(recorder, std::nullopt, std::nullopt);
        } catch (const asyncio::ValueError&) {
            raised = true;
        }
        EXPECT_TRUE(raised);
        raised = false;
        try {
            co_await loop.create_datagram_endpoint(recorder, Address{"127.0.0.1", 70000});
        } catch (const asyncio::ValueError&) {
            raised = true;
        }
        EXPECT_TRUE(raised);

        auto [st, server] =
            co_await loop.create_datagram_endpoint(recorder, Address{"127.0.0.1", 0});
        EXPECT_THROW(st.sendto("x"), asyncio::ValueError);                          // no address
        EXPECT_THROW(st.sendto("x", Address{"localhost", 9}), asyncio::ValueError); // a name
        auto [ct, client] =
            co_await loop.create_datagram_endpoint(recorder, std::nullopt, st.sockname());
        // test_sendto_connected_addr: a connected endpoint takes only its own remote address.
        EXPECT_THROW(ct.sendto("x", Address{"127.0.0.1", st.sockname().port + 1}),
                     asyncio::ValueError);
        ct.sendto("ok", st.sockname());
        EXPECT_EQ((co_await next_datagram(server)).first, "ok");
        ct.close();
        EXPECT_THROW(ct.sendto("late"), asyncio::RuntimeError);
        std::shared_ptr<Log> log = server.log;
        log->lost = loop.create_future();
        st.abort();
        EXPECT_TRUE(st.is_closing());
        EXPECT_THROW(st.sendto("late", Address{"127.0.0.1", 9}), asyncio::RuntimeError);
        co_await *log->lost;
        EXPECT_EQ(log->events.back(), "lost");
    }()));
}

// test_create_datagram_endpoint_cant_bind: a port in use is an OSError (EADDRINUSE) naming the
// address, and nothing is left open.
TEST_F(DatagramTest, CPython_create_datagram_endpoint_cant_bind) {
    run(bounded([&]() -> Coro<> {
        auto& loop = asyncio::get_running_loop();
        auto [st, server] =
            co_await loop.create_datagram_endpoint(recorder, Address{"127.0.0.1", 0});
        int port = st.sockname().port;
        bool raised = false;
        try {
            co_await loop.create_datagram_endpoint(recorder, Address{"127.0.0.1", port});
        } catch (const asyncio::OSError& e) {
            raised = true;
            EXPECT_EQ(e.code().value(), EADDRINUSE);
            EXPECT_NE(std::string(e.what()).find("127.0.0.1:" + std::to_string(port)),
                      std::string::npos)
                << e.what();
        }
        EXPECT_TRUE(raised);
        st.close();
    }()));
}

// A name is resolved for the remote address ("localhost"), and the local one then takes its
// family.
TEST_F(DatagramTest, RemoteAddressByName) {
    run(bounded([&]() -> Coro<> {
        auto& loop = asyncio::get_running_loop();
        auto [st, server] =
            co_await loop.create_datagram_endpoint(recorder, Address{"127.0.0.1", 0});
        auto [ct, client] = co_await loop.create_datagram_endpoint(
            recorder, Address{"", 0}, Address{"localhost", st.sockname().port});
        if (ct.peername().host != "127.0.0.1") { // localhost may resolve to ::1 first
            ct.close();
            st.close();
            co_return;
        }
        ct.sendto("by name");
        EXPECT_EQ((co_await next_datagram(server)).first, "by name");
        ct.close();
        st.close();
    }()));
}

// test_sendto_error_received_connected: a connected endpoint whose peer port is closed hears
// the ICMP port unreachable as ConnectionRefusedError through error_received(), and stays open.
TEST_F(DatagramTest, CPython_sendto_error_received_connected) {
    // A free UDP port of loopback, closed again: nobody listens there.
    int s = ::socket(AF_INET, SOCK_DGRAM, 0);
    ASSERT_GE(s, 0);
    sockaddr_in sin{};
    sin.sin_family = AF_INET;
    sin.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    ASSERT_EQ(::bind(s, reinterpret_cast<sockaddr*>(&sin), sizeof sin), 0);
    socklen_t len = sizeof sin;
    ASSERT_EQ(::getsockname(s, reinterpret_cast<sockaddr*>(&sin), &len), 0);
    int port = ntohs(sin.sin_port);
    ::close(s);

    run(bounded([&]() -> Coro<> {
        auto& loop = asyncio::get_running_loop();
        auto [ct, client] = co_await loop.create_datagram_endpoint(recorder, std::nullopt,
                                                                   Address{"127.0.0.1", port});
        client.error = loop.create_future<std::exception_ptr>();
        ct.sendto("anyone?");
        std::exception_ptr e = co_await *client.error;
        EXPECT_THROW(std::rethrow_exception(e), asyncio::ConnectionRefusedError);
        EXPECT_FALSE(ct.is_closing());
        std::shared_ptr<Log> log = co_await close_and_wait(ct, client);
        EXPECT_EQ(log->events, (std::vector<std::string>{"made", "error", "lost"}));
    }()));
}

// A datagram larger than UDP allows: the OSError (EMSGSIZE) goes to error_received(), as in
// asyncio, and the endpoint stays usable.
TEST_F(DatagramTest, OversizedDatagramIsAnErrorReceived) {
    run(bounded([&]() -> Coro<> {
        auto& loop = asyncio::get_running_loop();
        auto [st, server] =
            co_await loop.create_datagram_endpoint(recorder, Address{"127.0.0.1", 0});
        auto [ct, client] =
            co_await loop.create_datagram_endpoint(recorder, std::nullopt, st.sockname());
        client.error = loop.create_future<std::exception_ptr>();
        ct.sendto(std::string(70000, 'x'));
        std::exception_ptr e = co_await *client.error;
        try {
            std::rethrow_exception(e);
        } catch (const asyncio::OSError& os) {
            EXPECT_EQ(os.code().value(), EMSGSIZE);
        }
        EXPECT_FALSE(ct.is_closing());
        ct.sendto("small");
        EXPECT_EQ((co_await next_datagram(server)).first, "small");
        ct.close();
        st.close();
    }()));
}

// An exception from datagram_received() goes to the exception handler and closes the endpoint:
// connection_lost() receives it.
TEST_F(DatagramTest, ProtocolExceptionClosesTheEndpoint) {
    struct Throws : Recorder {
        void datagram_received(std::string_view data, const Address&) override {
            throw asyncio::ValueError("bad datagram: " + std::string(data));
        }
    };
    run(bounded([&]() -> Coro<> {
        auto& loop = asyncio::get_running_loop();
        auto [st, server] = co_await loop.create_datagram_endpoint(
            [] { return std::make_unique<Throws>(); }, Address{"127.0.0.1", 0});
        std::shared_ptr<Log> log = server.log;
        log->lost = loop.create_future();
        auto [ct, client] =
            co_await loop.create_datagram_endpoint(recorder, std::nullopt, st.sockname());
        ct.sendto("boom");
        co_await *log->lost;
        EXPECT_THROW(std::rethrow_exception(log->lost_with), asyncio::ValueError);
        ct.close();
    }()));
    ASSERT_EQ(reports.size(), 1u);
    EXPECT_NE(reports[0].message.find("datagram_received"), std::string::npos);
}

// A cancelled create_datagram_endpoint leaves nothing open: its protocol hears made, then lost.
TEST_F(DatagramTest, CancelledCreateClosesTheEndpoint) {
    std::shared_ptr<Log> made;
    run(bounded([&]() -> Coro<> {
        auto& loop = asyncio::get_running_loop();
        auto factory = [&] {
            auto r = recorder();
            made = r->log;
            made->lost = loop.create_future();
            return r;
        };
        auto task =
            loop.create_task(loop.create_datagram_endpoint(factory, Address{"127.0.0.1", 0}));
        co_await asyncio::sleep(0); // the task is in its last step
        task.cancel();
        bool cancelled = false;
        try {
            co_await task;
        } catch (const asyncio::CancelledError&) {
            cancelled = true;
        }
        EXPECT_TRUE(cancelled);
        EXPECT_NE(made, nullptr);
        if (made)
            co_await *made->lost;
        EXPECT_EQ(made->events, (std::vector<std::string>{"made", "lost"}));
    }()));
}

// The loop closing with an endpoint open releases it (the sanitizers check nothing leaks);
// the protocol is not called after the loop went.
TEST_F(DatagramTest, LoopClosingWithAnOpenEndpoint) {
    std::vector<std::string> seen;
    run([&]() -> Coro<> {
        auto& loop = asyncio::get_running_loop();
        auto [st, server] =
            co_await loop.create_datagram_endpoint(recorder, Address{"127.0.0.1", 0});
        seen = server.log->events;
    }());
    loop->close();
    EXPECT_EQ(seen, std::vector<std::string>{"made"});
}

} // namespace
