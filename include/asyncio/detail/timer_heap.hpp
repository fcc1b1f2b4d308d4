// Internal: the loop's timers, a 4-ary min-heap of intrusive nodes ordered by (when, seq).
#pragma once

#include <cstddef>
#include <cstdint>
#include <vector>

#include "runnable.hpp"

namespace asyncio::detail {

// Invariants: for every node at index i > 0, its parent at (i - 1) / 4 is not later than it;
// every node's heap_index is its position; nodes outside the heap have heap_index == npos.
// The nodes live in their owners (a sleep's awaiter, a timer handle): pushing allocates only
// when the vector grows, and erase() removes a cancelled timer at once in O(log n), so no
// cancelled timer is ever left behind. Four children per node halve the depth of a binary heap
// and keep siblings on one cache line, which is what makes pops cheap at a million entries.
class TimerHeap {
public:
    bool empty() const noexcept { return m_nodes.empty(); }
    std::size_t size() const noexcept { return m_nodes.size(); }
    TimerNode* top() const noexcept { return m_nodes.front(); }

    void push(TimerNode* n, std::uint64_t seq) {
        n->seq = seq;
        n->heap_index = static_cast<std::uint32_t>(m_nodes.size());
        m_nodes.push_back(n);
        sift_up(n->heap_index);
    }

    TimerNode* pop() noexcept {
        TimerNode* n = m_nodes.front();
        erase(n);
        return n;
    }

    void erase(TimerNode* n) noexcept {
        std::uint32_t i = n->heap_index;
        n->heap_index = TimerNode::npos;
        TimerNode* last = m_nodes.back();
        m_nodes.pop_back();
        if (last == n)
            return;
        m_nodes[i] = last;
        last->heap_index = i;
        if (i > 0 && less(last, m_nodes[(i - 1) / 4]))
            sift_up(i);
        else
            sift_down(i);
    }

private:
    static bool less(const TimerNode* a, const TimerNode* b) noexcept {
        return a->when < b->when || (a->when == b->when && a->seq < b->seq);
    }

    void place(std::uint32_t i, TimerNode* n) noexcept {
        m_nodes[i] = n;
        n->heap_index = i;
    }

    void sift_up(std::uint32_t i) noexcept {
        TimerNode* n = m_nodes[i];
        while (i > 0) {
            std::uint32_t parent = (i - 1) / 4;
            if (!less(n, m_nodes[parent]))
                break;
            place(i, m_nodes[parent]);
            i = parent;
        }
        place(i, n);
    }

    void sift_down(std::uint32_t i) noexcept {
        TimerNode* n = m_nodes[i];
        const auto size = static_cast<std::uint32_t>(m_nodes.size());
        for (;;) {
            std::uint32_t first = i * 4 + 1;
            if (first >= size)
                break;
            std::uint32_t best = first;
            std::uint32_t end = first + 4 < size ? first + 4 : size;
            for (std::uint32_t c = first + 1; c < end; ++c)
                if (less(m_nodes[c], m_nodes[best]))
                    best = c;
            if (!less(m_nodes[best], n))
                break;
            place(i, m_nodes[best]);
            i = best;
        }
        place(i, n);
    }

    std::vector<TimerNode*> m_nodes;
};

} // namespace asyncio::detail
