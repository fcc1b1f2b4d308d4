// expect: ContextVar<T>: T must be copy-constructible
// get() gives a copy of the value, so a move-only value type is refused.
#include <asyncio.hpp>
#include <memory>

asyncio::ContextVar<std::unique_ptr<int>> var("var");
