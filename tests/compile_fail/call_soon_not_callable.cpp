// expect: the callback cannot be called with the given arguments
// call_soon(1) in asyncio raises TypeError("a callable object was expected").
#include <asyncio.hpp>

void misuse(asyncio::EventLoop& loop) {
    loop.call_soon(1); // asyncio: TypeError("a callable object was expected by call_soon()")
}
