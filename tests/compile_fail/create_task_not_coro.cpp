// expect: create_task\(\) expects a coroutine object
// create_task() needs a coroutine object (asyncio's "a coroutine was expected, got 123").
#include <asyncio.hpp>

void misuse() { asyncio::create_task(123); }
