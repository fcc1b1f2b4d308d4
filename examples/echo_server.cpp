// TCP echo server using streams (the asyncio docs' example): answers one message per connection.
// Listens on 127.0.0.1:8888, or on the port given as the first argument (0: any free port).
// Ctrl-C stops it.
#include <asyncio.hpp>
#include <iostream>
#include <string>

asyncio::Coro<> handle_echo(asyncio::StreamReader reader, asyncio::StreamWriter writer) {
    std::string data = co_await reader.read(100);
    std::cout << "Received '" << data << "' from " << writer.peername().str() << std::endl;
    std::cout << "Send: '" << data << "'" << std::endl;
    writer.write(data);
    co_await writer.drain();
    std::cout << "Close the connection" << std::endl;
    writer.close();
    co_await writer.wait_closed();
}

asyncio::Coro<> amain(int port) {
    auto server = co_await asyncio::start_server(handle_echo, "127.0.0.1", port);
    for (const asyncio::Address& address : server.sockets())
        std::cout << "Serving on " << address.str() << std::endl;
    co_await server.serve_forever();
}

int main(int argc, char** argv) {
    try {
        asyncio::run(amain(argc > 1 ? std::stoi(argv[1]) : 8888));
    } catch (const asyncio::KeyboardInterrupt&) {
        std::cout << "Stopped" << std::endl;
    }
}
