// expect: each argument must be a string
// create_subprocess_exec("sleep", 5) in asyncio raises TypeError (expected str, bytes or
// os.PathLike object, not int).
#include <asyncio.hpp>

asyncio::Coro<> misuse() {
    auto proc = co_await asyncio::create_subprocess_exec("sleep", 5);
    co_await proc.wait();
}
