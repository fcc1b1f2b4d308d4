// Unit tests of the loop's timer structure (detail::TimerHeap) and ready queue.
#include <gtest/gtest.h>

#include <algorithm>
#include <asyncio/detail/runtime/ready_queue.hpp>
#include <asyncio/detail/runtime/timer_heap.hpp>
#include <cstdint>
#include <random>
#include <vector>

namespace {

using asyncio::detail::ReadyQueue;
using asyncio::detail::Runnable;
using asyncio::detail::TimerHeap;
using asyncio::detail::TimerNode;

struct Node final : TimerNode {
    int id = 0;
    void on_timer() override {}
};

struct Item final : Runnable {
    int id = 0;
    void run() override {}
};

std::vector<int> drain(TimerHeap& heap) {
    std::vector<int> order;
    while (!heap.empty())
        order.push_back(static_cast<Node*>(heap.pop())->id);
    return order;
}

TEST(TimerHeap, PopsInDeadlineOrder) {
    std::vector<Node> nodes(6);
    const double whens[] = {0.5, 0.1, 0.3, 0.2, 0.6, 0.4};
    TimerHeap heap;
    for (int i = 0; i < 6; ++i) {
        nodes[i].id = i;
        nodes[i].when = whens[i];
        heap.push(&nodes[i], i + 1);
    }
    EXPECT_EQ(drain(heap), (std::vector<int>{1, 3, 2, 5, 0, 4}));
    for (const Node& n : nodes)
        EXPECT_FALSE(n.scheduled());
}

TEST(TimerHeap, EqualDeadlinesAreFirstInFirstOut) {
    std::vector<Node> nodes(50);
    TimerHeap heap;
    for (int i = 0; i < 50; ++i) {
        nodes[i].id = i;
        nodes[i].when = 1.0;
        heap.push(&nodes[i], 100 + i);
    }
    std::vector<int> expected(50);
    for (int i = 0; i < 50; ++i)
        expected[i] = i;
    EXPECT_EQ(drain(heap), expected);
}

TEST(TimerHeap, EraseRemovesAtOnceFromAnyPosition) {
    std::vector<Node> nodes(100);
    TimerHeap heap;
    for (int i = 0; i < 100; ++i) {
        nodes[i].id = i;
        nodes[i].when = (i * 37) % 100;
        heap.push(&nodes[i], i + 1);
    }
    for (int i = 0; i < 100; i += 3) {
        heap.erase(&nodes[i]);
        EXPECT_FALSE(nodes[i].scheduled());
    }
    EXPECT_EQ(heap.size(), 66u);
    std::vector<int> order = drain(heap);
    ASSERT_EQ(order.size(), 66u);
    for (std::size_t k = 1; k < order.size(); ++k)
        EXPECT_LE(nodes[order[k - 1]].when, nodes[order[k]].when);
    for (int id : order)
        EXPECT_NE(id % 3, 0);
}

TEST(TimerHeap, MillionEntriesRandomisedAgainstSort) {
    constexpr int n = 1'000'000;
    std::vector<Node> nodes(n);
    std::mt19937_64 rng(42);
    std::uniform_real_distribution<double> when(0.0, 1.0);
    TimerHeap heap;
    for (int i = 0; i < n; ++i) {
        nodes[i].id = i;
        nodes[i].when = when(rng);
        heap.push(&nodes[i], static_cast<std::uint64_t>(i) + 1);
    }
    // Cancel a quarter, chosen at random.
    std::vector<char> erased(n, 0);
    for (int k = 0; k < n / 4; ++k) {
        int i = static_cast<int>(rng() % n);
        if (!erased[i]) {
            heap.erase(&nodes[i]);
            erased[i] = 1;
        }
    }
    std::vector<int> expected;
    for (int i = 0; i < n; ++i)
        if (!erased[i])
            expected.push_back(i);
    std::sort(expected.begin(), expected.end(), [&](int a, int b) {
        return nodes[a].when < nodes[b].when || (nodes[a].when == nodes[b].when && a < b);
    });
    EXPECT_EQ(heap.size(), expected.size());
    EXPECT_EQ(drain(heap), expected);
}

TEST(ReadyQueue, FifoAcrossGrowthAndWrapAround) {
    std::vector<Item> items(2000);
    for (int i = 0; i < 2000; ++i)
        items[i].id = i;
    ReadyQueue q;
    EXPECT_TRUE(q.empty());
    // Interleave pushes and pops so the ring wraps around before and after it grows.
    int next_in = 0, next_out = 0;
    for (int round = 0; round < 10; ++round) {
        for (int k = 0; k < 60 + round * 10; ++k)
            q.push(&items[next_in++]);
        for (int k = 0; k < 50; ++k)
            EXPECT_EQ(static_cast<Item*>(q.pop())->id, next_out++);
    }
    while (!q.empty())
        EXPECT_EQ(static_cast<Item*>(q.pop())->id, next_out++);
    EXPECT_EQ(next_out, next_in);
}

} // namespace
