// expect: asyncio::run\(\) expects a coroutine object
// run() needs a coroutine object (asyncio's "an awaitable is required").
#include <asyncio.hpp>

int main() { asyncio::run(123); }
