// expect: the SubprocessOptions come last
// Python's keyword arguments cannot come before positional ones either.
#include <asyncio.hpp>

asyncio::Coro<> misuse() {
    auto proc = co_await asyncio::create_subprocess_exec(
        "ls", asyncio::SubprocessOptions{.stdout_ = asyncio::PIPE}, "/tmp");
    co_await proc.wait();
}
