// Shared by the echo benchmarks: the server's handler, a task per connection (streams), as the
// peers' echo servers do it: read what came, write it back, until EOF.
#pragma once

#include <asyncio.hpp>
#include <string>

namespace bench {

inline asyncio::Coro<> echo_handler(asyncio::StreamReader reader, asyncio::StreamWriter writer) {
    try {
        for (;;) {
            std::string data = co_await reader.read(65536);
            if (data.empty())
                break;
            writer.write(data);
            co_await writer.drain();
        }
    } catch (const asyncio::ConnectionError&) {
    }
    writer.close();
}

} // namespace bench
