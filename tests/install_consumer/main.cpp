#include <asyncio.hpp>
asyncio::Coro<int> answer() { co_return 42; }
int main() { return asyncio::run(answer()) == 42 ? 0 : 1; }
