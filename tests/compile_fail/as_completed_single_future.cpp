// expect: not a single one
// as_completed() takes a range of awaitables, not one (asyncio's TypeError).
#include <asyncio.hpp>

void misuse(asyncio::Future<int> fut) { (void)asyncio::as_completed(fut); }
