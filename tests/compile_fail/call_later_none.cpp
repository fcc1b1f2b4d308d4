// expect: no matching (member )?function for call to .*call_later
// call_later(None, cb) in asyncio raises TypeError: a delay must be a number or a duration.
#include <asyncio.hpp>

void misuse(asyncio::EventLoop& loop) {
    loop.call_later(nullptr, [] {}); // asyncio: call_later(None, cb) raises TypeError
}
