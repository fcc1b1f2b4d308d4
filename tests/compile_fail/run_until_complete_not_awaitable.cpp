// expect: no matching (member )?function for call to
// run_until_complete() takes a Coro, a Task or a Future (asyncio's TypeError for "abc").
#include <asyncio.hpp>

int main() {
    auto loop = asyncio::new_event_loop();
    loop->run_until_complete("abc");
}
