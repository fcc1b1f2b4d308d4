// UDP echo server and client (the asyncio docs' "UDP Echo Server" and "UDP Echo Client"
// protocols), in one program: the server answers every datagram with the same bytes; the client
// sends one message, prints the answer and closes. The server listens on a free port of
// 127.0.0.1.
#include <asyncio.hpp>
#include <iostream>
#include <memory>
#include <string>

class EchoServerProtocol : public asyncio::DatagramProtocol {
public:
    void connection_made(asyncio::DatagramTransport& transport) override {
        m_transport = &transport;
    }
    void datagram_received(std::string_view data, const asyncio::Address& addr) override {
        std::cout << "Received '" << data << "' from " << addr.host << std::endl;
        std::cout << "Send '" << data << "' to " << addr.host << std::endl;
        m_transport->sendto(data, addr);
    }

private:
    asyncio::DatagramTransport* m_transport = nullptr;
};

class EchoClientProtocol : public asyncio::DatagramProtocol {
public:
    EchoClientProtocol(std::string message, asyncio::Future<> on_con_lost)
        : m_message(std::move(message)), m_on_con_lost(std::move(on_con_lost)) {}

    void connection_made(asyncio::DatagramTransport& transport) override {
        m_transport = &transport;
        std::cout << "Send: " << m_message << std::endl;
        transport.sendto(m_message);
    }
    void datagram_received(std::string_view data, const asyncio::Address&) override {
        std::cout << "Received: " << data << std::endl;
        std::cout << "Close the socket" << std::endl;
        m_transport->close();
    }
    void error_received(std::exception_ptr exc) override {
        try {
            std::rethrow_exception(exc);
        } catch (const std::exception& e) {
            std::cout << "Error received: " << e.what() << std::endl;
        }
    }
    void connection_lost(std::exception_ptr) override {
        std::cout << "Connection closed" << std::endl;
        m_on_con_lost.set_result();
    }

private:
    std::string m_message;
    asyncio::Future<> m_on_con_lost;
    asyncio::DatagramTransport* m_transport = nullptr;
};

asyncio::Coro<> amain() {
    auto& loop = asyncio::get_running_loop();
    std::cout << "Starting UDP server" << std::endl;
    auto [server, server_protocol] = co_await loop.create_datagram_endpoint(
        [] { return std::make_unique<EchoServerProtocol>(); }, asyncio::Address{"127.0.0.1", 0});

    asyncio::Future<> on_con_lost = loop.create_future();
    auto [client, client_protocol] = co_await loop.create_datagram_endpoint(
        [&] { return std::make_unique<EchoClientProtocol>("Hello World!", on_con_lost); },
        std::nullopt, server.sockname());
    try {
        co_await asyncio::wait_for(on_con_lost, 5);
    } catch (const asyncio::TimeoutError&) {
        std::cout << "No answer" << std::endl;
        client.close();
    }
    server.close();
}

int main() { asyncio::run(amain()); }
