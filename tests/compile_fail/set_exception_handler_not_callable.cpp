// expect: cannot convert|no viable conversion
// set_exception_handler("x") in asyncio raises TypeError("A callable object or None is expected").
#include <asyncio.hpp>

void misuse(asyncio::EventLoop& loop) {
    loop.set_exception_handler("not callable"); // asyncio: TypeError("A callable object or None")
}
