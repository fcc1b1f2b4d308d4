// TCP echo client using streams (the asyncio docs' example): sends one message to the echo
// server on 127.0.0.1:8888 (or the port given as the first argument) and prints the answer.
#include <asyncio.hpp>
#include <iostream>
#include <string>

asyncio::Coro<> tcp_echo_client(std::string message, int port) {
    auto [reader, writer] = co_await asyncio::open_connection("127.0.0.1", port);
    std::cout << "Send: '" << message << "'" << std::endl;
    writer.write(message);
    co_await writer.drain();
    std::string data = co_await reader.read(100);
    std::cout << "Received: '" << data << "'" << std::endl;
    std::cout << "Close the connection" << std::endl;
    writer.close();
    co_await writer.wait_closed();
}

int main(int argc, char** argv) {
    asyncio::run(tcp_echo_client("Hello World!", argc > 1 ? std::stoi(argv[1]) : 8888));
}
