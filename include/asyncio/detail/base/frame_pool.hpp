// Internal: the allocator of coroutine frames, tasks, futures and callback handles: per-thread
// free lists by size class, carved from large chunks.
#pragma once

#include <cstddef>
#include <new>

#if defined(__SANITIZE_ADDRESS__) || defined(__SANITIZE_THREAD__)
#define ASYNCIO_NO_POOL 1
#elif defined(__has_feature)
#if __has_feature(address_sanitizer) || __has_feature(thread_sanitizer)
#define ASYNCIO_NO_POOL 1
#endif
#endif

namespace asyncio::detail {

// Invariants: a block of class c is (c + 1) * granule bytes; a free block's first word links to
// the next free block of its class; chunks are never returned to the system (blocks are reused
// by whichever thread frees them). Under a sanitizer the pool steps aside, so every block is a
// plain new/delete the sanitizer can check.
//
// Why: a million live tasks defeat malloc's per-thread caches, and malloc's general path then
// costs more than the task itself; a pop from a free list or a bump in a chunk costs a few
// instructions. A class's chunks double in size from 16 KiB to 1 MiB, and their pages are mapped
// when the chunk is made: one system call instead of a page fault every 4 KiB, which at a million
// tasks dominated the time to spawn them (docs/performance.md).
struct PoolClass {
    void* free = nullptr;
    char* next = nullptr;
    char* end = nullptr;
    std::size_t chunk_bytes = 0; // the last chunk's size
};

inline constexpr std::size_t pool_granule = 16;
inline constexpr std::size_t pool_classes = 64; // blocks up to 1 KiB
inline thread_local PoolClass t_pool[pool_classes];

void* pool_refill(PoolClass& c, std::size_t block);

inline void* pool_allocate(std::size_t n) {
#ifndef ASYNCIO_NO_POOL
    if (n <= pool_granule * pool_classes) {
        std::size_t index = (n - 1) / pool_granule;
        PoolClass& c = t_pool[index];
        if (void* p = c.free) {
            c.free = *static_cast<void**>(p);
            return p;
        }
        std::size_t block = (index + 1) * pool_granule;
        if (c.next != c.end) {
            void* p = c.next;
            c.next += block;
            return p;
        }
        return pool_refill(c, block);
    }
#endif
    return ::operator new(n);
}

inline void pool_deallocate(void* p, [[maybe_unused]] std::size_t n) noexcept {
#ifndef ASYNCIO_NO_POOL
    if (n <= pool_granule * pool_classes) {
        PoolClass& c = t_pool[(n - 1) / pool_granule];
        *static_cast<void**>(p) = c.free;
        c.free = p;
        return;
    }
#endif
    ::operator delete(p); // unsized: clang 14 has no sized deallocation by default
}

// Gives a class its allocation from the pool.
struct PoolAllocated {
    static void* operator new(std::size_t n) { return pool_allocate(n); }
    static void operator delete(void* p, std::size_t n) noexcept { pool_deallocate(p, n); }
};

} // namespace asyncio::detail
