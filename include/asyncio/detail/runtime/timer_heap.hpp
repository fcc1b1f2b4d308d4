// Internal: the loop's timers, a 4-ary min-heap of intrusive nodes ordered by (when, seq).
#pragma once

#include <cstddef>
#include <cstdint>
#include <vector>

#include "../base/runnable.hpp"

namespace asyncio::detail {

// Invariants: for every entry at index i > 0, its parent at (i - 1) / 4 is not later than it;
// every entry's `when` is its node's; every node's heap_index is its entry's position; nodes
// outside the heap have heap_index == npos. The nodes live in their owners (a sleep's awaiter, a
// timer handle): pushing allocates only when the vector grows, and erase() removes a cancelled
// timer at once in O(log n), so no cancelled timer is ever left behind.
//
// Why this shape: at a million timers the nodes are scattered over the tasks' frames, and a
// comparison that read them would miss the cache at every step. The deadline is kept in the
// entry, so a sift compares within the array (four children of 16 bytes: one cache line) and
// touches a node only to update the heap_index of the one it moves, or on equal deadlines.
class TimerHeap {
public:
    bool empty() const noexcept { return m_entries.empty(); }
    std::size_t size() const noexcept { return m_entries.size(); }
    TimerNode* top() const noexcept { return m_entries.front().node; }
    // The earliest deadline (the heap must not be empty).
    double top_when() const noexcept { return m_entries.front().when; }

    void push(TimerNode* n, std::uint64_t seq) {
        n->seq = seq;
        const auto i = static_cast<std::uint32_t>(m_entries.size());
        m_entries.push_back(Entry{n->when, n});
        sift_up(i);
    }

    TimerNode* pop() noexcept {
        TimerNode* n = m_entries.front().node;
        erase(n);
        return n;
    }

    void erase(TimerNode* n) noexcept {
        std::uint32_t i = n->heap_index;
        n->heap_index = TimerNode::npos;
        Entry last = m_entries.back();
        m_entries.pop_back();
        if (last.node == n)
            return;
        m_entries[i] = last;
        last.node->heap_index = i;
        if (i > 0 && less(last, m_entries[(i - 1) / 4]))
            sift_up(i);
        else
            sift_down(i);
    }

private:
    struct Entry {
        double when;
        TimerNode* node;
    };

    static bool less(const Entry& a, const Entry& b) noexcept {
        return a.when < b.when || (a.when == b.when && a.node->seq < b.node->seq);
    }

    void place(std::uint32_t i, const Entry& e) noexcept {
        m_entries[i] = e;
        e.node->heap_index = i;
    }

    void sift_up(std::uint32_t i) noexcept {
        const Entry e = m_entries[i];
        while (i > 0) {
            std::uint32_t parent = (i - 1) / 4;
            if (!less(e, m_entries[parent]))
                break;
            place(i, m_entries[parent]);
            i = parent;
        }
        place(i, e);
    }

    void sift_down(std::uint32_t i) noexcept {
        const Entry e = m_entries[i];
        const auto size = static_cast<std::uint32_t>(m_entries.size());
        for (;;) {
            std::uint32_t first = i * 4 + 1;
            if (first >= size)
                break;
            std::uint32_t best = first;
            std::uint32_t end = first + 4 < size ? first + 4 : size;
            for (std::uint32_t c = first + 1; c < end; ++c)
                if (less(m_entries[c], m_entries[best]))
                    best = c;
            if (!less(m_entries[best], e))
                break;
            place(i, m_entries[best]);
            i = best;
        }
        place(i, e);
    }

    std::vector<Entry> m_entries;
};

} // namespace asyncio::detail
