// The frame pool's slow path: a new chunk for a size class.
#include "asyncio/detail/base/frame_pool.hpp"

#include <algorithm>
#include <mutex>
#include <new>
#include <sys/mman.h>
#include <vector>

namespace asyncio::detail {

namespace {
// Every chunk ever made, so that blocks stay reachable (and leak checkers quiet) whatever thread
// made them.
std::mutex g_chunks_mutex;
std::vector<void*>* g_chunks = new std::vector<void*>();
} // namespace

void* pool_refill(PoolClass& c, std::size_t block) {
    constexpr std::size_t first_chunk = 16 * 1024;
    constexpr std::size_t last_chunk = 1024 * 1024;
    c.chunk_bytes = c.chunk_bytes == 0 ? first_chunk : std::min(c.chunk_bytes * 2, last_chunk);
    std::size_t size = block * std::max<std::size_t>(16, c.chunk_bytes / block);
    void* chunk = mmap(nullptr, size, PROT_READ | PROT_WRITE,
                       MAP_PRIVATE | MAP_ANONYMOUS | MAP_POPULATE, -1, 0);
    if (chunk == MAP_FAILED)
        throw std::bad_alloc();
    {
        std::lock_guard lock(g_chunks_mutex);
        g_chunks->push_back(chunk);
    }
    c.next = static_cast<char*>(chunk) + block;
    c.end = static_cast<char*>(chunk) + size;
    return chunk;
}

} // namespace asyncio::detail
