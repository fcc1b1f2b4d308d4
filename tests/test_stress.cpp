// Stress: a million tasks, half of them cancelled at seeded random points, every one awaited
// and accounted for, nothing left alive.
#include <gtest/gtest.h>

#include <asyncio.hpp>
#include <cstdint>
#include <vector>

namespace {

using namespace asyncio;

// Counts live coroutine frames of the workers: zero at the end means none leaked.
int g_live = 0;

struct Alive {
    Alive() { ++g_live; }
    ~Alive() { --g_live; }
    Alive(const Alive&) = delete;
    Alive& operator=(const Alive&) = delete;
};

struct Lcg {
    std::uint64_t state;
    std::uint32_t next() {
        state = state * 6364136223846793005ULL + 1442695040888963407ULL;
        return static_cast<std::uint32_t>(state >> 33);
    }
};

Coro<std::uint64_t> worker(std::uint64_t i, int steps, double delay) {
    Alive alive;
    for (int s = 0; s < steps; ++s) {
        if (s % 2)
            co_await sleep(delay);
        else
            co_await sleep(0);
    }
    co_return i;
}

Coro<> wave(std::uint64_t first, int count, Lcg* rng, std::uint64_t* sum, int* cancelled,
            int* finished) {
    std::vector<Task<std::uint64_t>> tasks;
    tasks.reserve(count);
    std::vector<std::pair<int, int>> cancel_at; // (iteration, task index)
    for (int k = 0; k < count; ++k) {
        int steps = static_cast<int>(rng->next() % 5);
        double delay = (rng->next() % 1000) / 1e4;
        tasks.push_back(create_task(worker(first + k, steps, delay)));
        if (rng->next() % 2)
            cancel_at.emplace_back(static_cast<int>(rng->next() % 6), k);
    }
    // Cancel the chosen half at random points: before they start, while they sleep, while they
    // yield, or after they finished (then cancel() is a no-op).
    for (int iteration = 0; iteration < 6; ++iteration) {
        for (auto [when, k] : cancel_at)
            if (when == iteration)
                tasks[k].cancel();
        co_await sleep(0.01);
    }
    for (auto& t : tasks) {
        try {
            *sum += co_await t;
            ++*finished;
        } catch (const CancelledError&) {
            ++*cancelled;
        }
    }
}

Coro<> stress(std::uint64_t* sum, int* cancelled, int* finished) {
    Lcg rng{42};
    constexpr int waves = 10;
    constexpr int per_wave = 100'000;
    for (int w = 0; w < waves; ++w)
        co_await wave(static_cast<std::uint64_t>(w) * per_wave, per_wave, &rng, sum, cancelled,
                      finished);
}

TEST(Stress, MillionTasksHalfCancelled) {
    std::uint64_t sum = 0;
    int cancelled = 0, finished = 0;
    run(stress(&sum, &cancelled, &finished), {.virtual_time = true});
    EXPECT_EQ(cancelled + finished, 1'000'000);
    // About half were chosen for cancellation; some of those finished first.
    EXPECT_GT(cancelled, 250'000);
    EXPECT_LT(cancelled, 500'000);
    EXPECT_GT(sum, 0u);
    EXPECT_EQ(g_live, 0);
}

} // namespace
