// Internal: the loop's FIFO of ready work, a growable power-of-two ring of pointers.
#pragma once

#include <cstddef>
#include <cstdlib>
#include <new>

#include "../base/runnable.hpp"

namespace asyncio::detail {

// Invariants: m_head < capacity; size <= capacity; capacity is 0 or a power of two; the items
// are m_buf[(m_head + i) & mask] for i in [0, size). Pushing and popping never allocate unless
// the ring is full, so a steady loop reuses one buffer forever.
class ReadyQueue {
public:
    ReadyQueue() = default;
    ReadyQueue(const ReadyQueue&) = delete;
    ReadyQueue& operator=(const ReadyQueue&) = delete;
    ~ReadyQueue() { std::free(m_buf); }

    bool empty() const noexcept { return m_size == 0; }
    std::size_t size() const noexcept { return m_size; }

    void push(Runnable* r) {
        if (m_size == m_cap)
            grow();
        m_buf[(m_head + m_size) & (m_cap - 1)] = r;
        ++m_size;
    }

    // Reverses the order of the last `n` items pushed (n <= size()).
    void reverse_last(std::size_t n) noexcept {
        const std::size_t mask = m_cap - 1;
        std::size_t lo = m_head + m_size - n;
        std::size_t hi = m_head + m_size - 1;
        for (; n > 1; n -= 2, ++lo, --hi) {
            Runnable*& a = m_buf[lo & mask];
            Runnable*& b = m_buf[hi & mask];
            Runnable* t = a;
            a = b;
            b = t;
        }
    }

    Runnable* pop() noexcept {
        Runnable* r = m_buf[m_head];
        m_head = (m_head + 1) & (m_cap - 1);
        --m_size;
        return r;
    }

private:
    // Out of line, so that push() stays a few instructions where it is inlined.
    [[gnu::noinline]] void grow() {
        std::size_t cap = m_cap ? m_cap * 2 : 64;
        auto* buf = static_cast<Runnable**>(std::malloc(cap * sizeof(Runnable*)));
        if (!buf)
            throw std::bad_alloc();
        for (std::size_t i = 0; i < m_size; ++i)
            buf[i] = m_buf[(m_head + i) & (m_cap - 1)];
        std::free(m_buf);
        m_buf = buf;
        m_cap = cap;
        m_head = 0;
    }

    Runnable** m_buf = nullptr;
    std::size_t m_cap = 0;
    std::size_t m_head = 0;
    std::size_t m_size = 0;
};

} // namespace asyncio::detail
