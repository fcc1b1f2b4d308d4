// The frame pool's slow path: a new chunk for a size class.
#include "asyncio/detail/frame_pool.hpp"

#include <cstdlib>
#include <mutex>
#include <vector>

namespace asyncio::detail {

namespace {
// Every chunk ever made, so that blocks stay reachable (and leak checkers quiet) whatever thread
// made them.
std::mutex g_chunks_mutex;
std::vector<void*>* g_chunks = new std::vector<void*>();
} // namespace

void* pool_refill(PoolClass& c, std::size_t block) {
    // About 64 KiB a chunk, at least 16 blocks.
    std::size_t count = block * 16 > 65536 ? 16 : 65536 / block;
    char* chunk = static_cast<char*>(::operator new(block* count));
    {
        std::lock_guard lock(g_chunks_mutex);
        g_chunks->push_back(chunk);
    }
    c.next = chunk + block;
    c.end = chunk + block * count;
    return chunk;
}

} // namespace asyncio::detail
