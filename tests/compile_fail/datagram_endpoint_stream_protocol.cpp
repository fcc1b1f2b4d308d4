// expect: the factory must return a std::unique_ptr to a DatagramProtocol
// A stream protocol cannot serve a UDP endpoint: asyncio would fail at the first datagram
// (no datagram_received); here it does not compile.
#include <asyncio.hpp>
#include <memory>

struct Stream : asyncio::Protocol {};

asyncio::Coro<> misuse() {
    auto& loop = asyncio::get_running_loop();
    auto factory = [] { return std::make_unique<Stream>(); };
    co_await loop.create_datagram_endpoint(factory, asyncio::Address{"127.0.0.1", 0});
}
