// Eager tasks, the task factory and owned callables: CPython's test_eager_task_factory.py cases
// that apply (EagerTaskTest.CPython_*), conformance cases CREATE-05 and CREATE-13 as their nearest
// C++ equivalents, and create_task taking the coroutine function itself.
#include <asyncio.hpp>

#include <string>
#include <vector>

#include "asyncio_test.hpp"

namespace {

using asyncio::Coro;
using asyncio::sleep;
using asyncio::Task;
using asyncio::TaskOptions;
using asyncio::detail::LoopTestAccess;

class EagerTaskTest : public asyncio::testing::LoopTest {};

Coro<int> no_suspend(int v) { co_return v; }

TEST_F(EagerTaskTest, CPython_eager_task_factory_set_and_reset) {
    EXPECT_FALSE(loop->get_task_factory());
    loop->set_task_factory(asyncio::eager_task_factory);
    EXPECT_TRUE(loop->get_task_factory());
    loop->set_task_factory(nullptr);
    EXPECT_FALSE(loop->get_task_factory());
}

TEST_F(EagerTaskTest, CPython_eager_completion_TaskDoneWithoutBeingScheduled) {
    loop->set_task_factory(asyncio::eager_task_factory);
    run([this]() -> Coro<> {
        const std::size_t ready = LoopTestAccess::ready_count(*loop);
        Task<int> t = asyncio::create_task(no_suspend(42));
        EXPECT_TRUE(t.done());
        EXPECT_EQ(t.result(), 42);
        EXPECT_EQ(LoopTestAccess::ready_count(*loop), ready); // never scheduled
        co_return;
    }());
}

TEST_F(EagerTaskTest, CPython_eager_step_IsCurrentTaskWithItsNameAndContext) {
    asyncio::ContextVar<int> var("var", 0);
    run([&]() -> Coro<> {
        asyncio::TaskRef outer = asyncio::current_task();
        std::string seen_name;
        bool was_current = false;
        Task<void> t = asyncio::create_task(
            [&]() -> Coro<> {
                seen_name = asyncio::current_task().get_name();
                was_current = (asyncio::current_task().raw() != outer.raw());
                var.set(7); // in the task's own copy of the context
                co_return;
            },
            TaskOptions{.name = "eager-one", .eager_start = true});
        EXPECT_TRUE(t.done());
        EXPECT_EQ(seen_name, "eager-one");
        EXPECT_TRUE(was_current);
        EXPECT_EQ(asyncio::current_task().raw(), outer.raw()); // restored after the step
        EXPECT_EQ(var.get(), 0);
        co_await t;
    }());
}

TEST_F(EagerTaskTest, CPython_eager_task_that_suspends_finishes_later) {
    std::vector<std::string> order;
    run([&]() -> Coro<> {
        Task<int> t = asyncio::create_task(
            [&]() -> Coro<int> {
                order.push_back("first step");
                co_await sleep(1);
                order.push_back("second step");
                co_return 3;
            },
            TaskOptions{.eager_start = true});
        order.push_back("after create_task");
        EXPECT_FALSE(t.done());
        EXPECT_EQ(co_await t, 3);
    }());
    EXPECT_EQ(order, (std::vector<std::string>{"first step", "after create_task", "second step"}));
}

TEST_F(EagerTaskTest, CPython_eager_on_a_loop_not_running_is_scheduled) {
    loop->set_task_factory(asyncio::eager_task_factory);
    bool ran = false;
    Task<void> t = loop->create_task([&]() -> Coro<> {
        ran = true;
        co_return;
    });
    EXPECT_FALSE(ran);
    EXPECT_FALSE(t.done());
    loop->run_until_complete(t);
    EXPECT_TRUE(ran);
}

TEST_F(EagerTaskTest, CPython_eager_task_failing_at_once_in_a_group_aborts_it) {
    loop->set_task_factory(asyncio::eager_task_factory);
    bool second_ran = false;
    try {
        run(asyncio::task_group([&](asyncio::TaskGroup& g) -> Coro<> {
            g.create_task([]() -> Coro<> {
                throw asyncio::ValueError("at once");
                co_return;
            });
            co_await sleep(1); // cancelled by the group
            second_ran = true;
        }));
        FAIL() << "no ExceptionGroup";
    } catch (const asyncio::ExceptionGroup& eg) {
        EXPECT_EQ(eg.exceptions().size(), 1u);
    }
    EXPECT_FALSE(second_ran);
}

TEST_F(EagerTaskTest, CREATE_05_CustomFactoryEditsTheOptions) {
    std::vector<std::string> seen;
    loop->set_task_factory([&](TaskOptions& o) {
        seen.push_back(o.name);
        o.name = "factory-" + o.name;
    });
    run([&]() -> Coro<> {
        auto t = asyncio::create_task(no_suspend(1), "x");
        EXPECT_EQ(t.get_name(), "factory-x");
        co_await t;
    }());
    EXPECT_EQ(seen, (std::vector<std::string>{"", "x"})); // the main task, then ours
    loop->set_task_factory(nullptr);
    run([&]() -> Coro<> {
        auto t = asyncio::create_task(no_suspend(1), "y");
        EXPECT_EQ(t.get_name(), "y");
        co_await t;
    }());
}

TEST_F(EagerTaskTest, CREATE_13_TasksMadeForCoroutinesGoThroughTheFactory) {
    // asyncio's ensure_future goes through loop.create_task; here gather() and shield() make their
    // tasks through the loop's factory.
    int made = 0;
    loop->set_task_factory([&](TaskOptions&) { ++made; });
    run([&]() -> Coro<> {
        auto [a, b] = co_await asyncio::gather(no_suspend(1), no_suspend(2));
        EXPECT_EQ(a + b, 3);
        EXPECT_EQ(co_await asyncio::shield(no_suspend(4)), 4);
    }());
    EXPECT_EQ(made, 4); // the main task, two for gather, one for shield
}

TEST_F(EagerTaskTest, CreateTaskOwnsTheCoroutineFunction) {
    std::vector<std::string> seen;
    run([&]() -> Coro<> {
        std::vector<Task<void>> tasks;
        for (int i = 0; i < 3; ++i) {
            std::string name = "n" + std::to_string(i);
            // The closure is a temporary: the task keeps it (and `name`) alive.
            tasks.push_back(asyncio::create_task([name, &seen]() -> Coro<> {
                co_await sleep(0.1);
                seen.push_back(name);
            }));
        }
        tasks.push_back(asyncio::get_running_loop().create_task([&seen]() -> Coro<> {
            co_await sleep(0.2);
            seen.push_back("loop");
        }));
        for (auto& t : tasks)
            co_await t;
    }());
    EXPECT_EQ(seen, (std::vector<std::string>{"n0", "n1", "n2", "loop"}));
}

TEST_F(EagerTaskTest, CreateTaskOnClosedLoopDestroysTheCoroutineUnreported) {
    loop->set_debug(true);
    loop->close();
    EXPECT_THROW(loop->create_task(no_suspend(1)), asyncio::RuntimeError);
    for (const auto& m : messages())
        EXPECT_EQ(m.find("never awaited"), std::string::npos) << m;
    EXPECT_TRUE(reports.empty());
}

} // namespace
