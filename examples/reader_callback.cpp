// Watch a file descriptor for read events (the asyncio docs' add_reader example): wait until a
// socket of a connected pair has received some data, print it, stop watching.
#include <asyncio.hpp>
#include <cerrno>
#include <iostream>
#include <string>
#include <sys/socket.h>
#include <unistd.h>

asyncio::Coro<> amain() {
    auto& loop = asyncio::get_running_loop();
    int pair[2];
    if (::socketpair(AF_UNIX, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0, pair) != 0)
        throw asyncio::OSError(errno, "socketpair");
    int rsock = pair[0], wsock = pair[1];

    asyncio::Future<> done = loop.create_future();
    loop.add_reader(rsock, [&] {
        char data[100];
        ssize_t n = ::read(rsock, data, sizeof data);
        std::cout << "Received: " << std::string(data, n > 0 ? static_cast<std::size_t>(n) : 0)
                  << std::endl;
        loop.remove_reader(rsock); // we are done: unregister the descriptor
        done.set_result();
    });
    // Simulate the reception of data from the network.
    loop.call_soon([&] {
        if (::write(wsock, "abc", 3) != 3)
            std::cout << "write failed" << std::endl;
    });

    co_await asyncio::wait_for(done, 5);
    ::close(rsock);
    ::close(wsock);
}

int main() { asyncio::run(amain()); }
