// asyncio.graph (3.14): the call graph through awaited futures, tasks, gather, shield, wait_for,
// timeout and TaskGroup, and format_call_graph's layout (CPython's test_graph.py, as
// GraphTest.CPython_*, where it applies).
#include <asyncio.hpp>

#include <string>

#include "asyncio_test.hpp"

namespace {

using asyncio::Coro;
using asyncio::FutureCallGraph;
using asyncio::FutureRef;

class GraphTest : public asyncio::testing::LoopTest {};

bool is_task_named(const FutureCallGraph& g, const std::string& name) {
    return g.future.core().is_task() &&
           static_cast<const asyncio::detail::TaskCore&>(g.future.core()).name() == name;
}

Coro<void> leaf(asyncio::Future<int> fut) { (void)co_await fut; }
Coro<void> middle(asyncio::Future<int> fut) { co_await leaf(fut); }

TEST_F(GraphTest, CPython_stack_tracking_FutureAwaitedByATaskThroughItsFrames) {
    run([]() -> Coro<> {
        auto fut = asyncio::get_running_loop().create_future<int>();
        auto t = asyncio::create_task(middle(fut), "waiter");
        co_await asyncio::sleep(0);
        auto g = asyncio::capture_call_graph(fut);
        EXPECT_TRUE(g.has_value());
        EXPECT_FALSE(g->future.core().is_task());
        EXPECT_TRUE(g->call_stack.empty());
        EXPECT_EQ(g->awaited_by.size(), 1u);
        if (g->awaited_by.size() == 1) {
            const FutureCallGraph& w = g->awaited_by[0];
            EXPECT_TRUE(is_task_named(w, "waiter"));
            EXPECT_EQ(w.call_stack.size(), 2u);
            if (w.call_stack.size() == 2) {
                EXPECT_EQ(w.call_stack[0].name, "leaf"); // innermost first
                EXPECT_EQ(w.call_stack[1].name, "middle");
            }
        }
        auto limited = asyncio::capture_call_graph(fut, 1, 1);
        EXPECT_EQ(limited->awaited_by[0].call_stack.size(), 1u);
        EXPECT_EQ(limited->awaited_by[0].call_stack[0].name, "leaf");
        fut.set_result(1);
        co_await t;
    }());
}

TEST_F(GraphTest, CPython_through_gather_and_shield) {
    run([]() -> Coro<> {
        auto fut = asyncio::get_running_loop().create_future<int>();
        auto child = asyncio::create_task(leaf(fut), "child");
        auto waiter = asyncio::create_task(
            [child]() -> Coro<> { (void)co_await asyncio::gather(asyncio::shield(child)); },
            "gatherer");
        co_await asyncio::sleep(0);
        // child <- shield's outer future <- gather's future <- the gatherer task
        auto g = asyncio::capture_call_graph(child);
        EXPECT_TRUE(is_task_named(*g, "child"));
        EXPECT_EQ(g->awaited_by.size(), 1u);
        const FutureCallGraph* level = &*g;
        int futures = 0;
        while (level->awaited_by.size() == 1 && !level->awaited_by[0].future.core().is_task()) {
            level = &level->awaited_by[0];
            ++futures;
        }
        EXPECT_EQ(futures, 2);
        EXPECT_EQ(level->awaited_by.size(), 1u);
        if (level->awaited_by.size() == 1) {
            EXPECT_TRUE(is_task_named(level->awaited_by[0], "gatherer"));
        }
        fut.set_result(1);
        co_await waiter;
    }());
}

TEST_F(GraphTest, CPython_through_task_group_and_timeout) {
    run([]() -> Coro<> {
        auto fut = asyncio::get_running_loop().create_future<int>();
        std::string text;
        co_await asyncio::timeout(10, asyncio::task_group([&](asyncio::TaskGroup& tg) -> Coro<> {
                                      auto c = tg.create_task(leaf(fut), "grouped");
                                      co_await asyncio::sleep(0);
                                      text = asyncio::format_call_graph(c);
                                      fut.set_result(1);
                                  }));
        // The child is awaited by the task that runs the group.
        EXPECT_NE(text.find("* Task(name='grouped', id=0x"), std::string::npos) << text;
        EXPECT_NE(text.find("  + Awaited by:\n    * Task(name='Task-"), std::string::npos) << text;
        EXPECT_NE(text.find("  |   File '"), std::string::npos) << text;
        EXPECT_NE(text.find(", in async leaf()"), std::string::npos) << text;
    }());
}

TEST_F(GraphTest, CPython_current_task_and_outside_a_task) {
    run([this]() -> Coro<> {
        auto g = asyncio::capture_call_graph();
        EXPECT_TRUE(g.has_value());
        EXPECT_TRUE(g && g->future.core().is_task());
        EXPECT_TRUE(g && !g->call_stack.empty());
        bool outside_is_none = false;
        loop->call_soon([&] { outside_is_none = !asyncio::capture_call_graph().has_value(); });
        co_await asyncio::sleep(0);
        EXPECT_TRUE(outside_is_none);
    }());
}

} // namespace
