// expect: deleted
// A Lock (like every primitive and queue) is one object its waiters point to: it cannot be
// copied (share it by reference instead).
#include <asyncio.hpp>

void misuse(const asyncio::Lock& lock) {
    asyncio::Lock copy = lock;
    (void)copy;
}
