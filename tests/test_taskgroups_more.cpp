// asyncio.TaskGroup: CPython's later test_taskgroups.py cases (cancelling levels, contexts), and
// our own: refused create_task, TaskGroup::cancel(), owned callables, a large group,
// cancellation while children are created, ExceptionGroup's subgroup/split.
#include <asyncio.hpp>

#include <memory>
#include <optional>
#include <set>
#include <stdexcept>
#include <string>
#include <typeindex>
#include <vector>

#include "taskgroup_support.hpp"

namespace {

using asyncio::CancelledError;
using asyncio::Coro;
using asyncio::ExceptionGroup;
using asyncio::sleep;
using asyncio::Task;
using asyncio::task_group;
using asyncio::TaskGroup;

using namespace asyncio::testing;

class TaskGroupTest : public LoopTest {};

Coro<void> raise_after(double t) {
    co_await sleep(t);
    throw asyncio::RuntimeError("raise_after");
}

TEST_F(TaskGroupTest, CPython_cancelling_level_preserved) {
    run([]() -> Coro<> {
        try {
            co_await task_group([](TaskGroup& tg) -> Coro<> {
                tg.create_task(raise_after(0));
                co_return;
            });
        } catch (const ExceptionGroup&) {
        }
        EXPECT_EQ(asyncio::current_task().cancelling(), 0);
    }());
}

TEST_F(TaskGroupTest, CPython_nested_groups_both_cancelled) {
    run([]() -> Coro<> {
        bool value_error = false;
        try {
            co_await task_group([](TaskGroup& outer) -> Coro<> {
                bool runtime_error = false;
                try {
                    co_await task_group([&outer](TaskGroup& inner) -> Coro<> {
                        inner.create_task(raise_after(0));
                        outer.create_task(crash_after(0));
                        co_return;
                    });
                } catch (const ExceptionGroup& eg) {
                    runtime_error = eg.subgroup<asyncio::RuntimeError>().has_value();
                }
                EXPECT_TRUE(runtime_error);
                EXPECT_EQ(asyncio::current_task().cancelling(), 1);
            });
        } catch (const ExceptionGroup& eg) {
            value_error = eg.subgroup<ValueErr>().has_value();
        }
        EXPECT_TRUE(value_error);
        EXPECT_EQ(asyncio::current_task().cancelling(), 0);
    }());
}

TEST_F(TaskGroupTest, CPython_error_and_cancel) {
    run([]() -> Coro<> {
        asyncio::Future<void> event = asyncio::get_running_loop().create_future<void>();
        auto inner = [&]() -> Coro<> {
            try {
                co_await task_group([&](TaskGroup& tg) -> Coro<> {
                    tg.create_task([&]() -> Coro<> {
                        event.set_result();
                        co_await sleep(0);
                        throw asyncio::RuntimeError("raise_error");
                    });
                    co_await sleep(1);
                    ADD_FAILURE() << "sleep in group should have been cancelled";
                });
            } catch (const ExceptionGroup&) {
                EXPECT_EQ(asyncio::current_task().cancelling(), 1);
            }
            EXPECT_EQ(asyncio::current_task().cancelling(), 1);
            co_await sleep(1);
            ADD_FAILURE() << "sleep after group should have been cancelled";
        };
        auto t = asyncio::create_task(inner());
        co_await event;
        EXPECT_EQ(t.cancelling(), 0);
        t.cancel();
        EXPECT_EQ(t.cancelling(), 1);
        bool cancelled = false;
        try {
            co_await t;
        } catch (const CancelledError&) {
            cancelled = true;
        }
        EXPECT_TRUE(cancelled);
        EXPECT_TRUE(t.cancelled());
    }());
}

TEST_F(TaskGroupTest, CPython_taskgroup_task_context) {
    asyncio::ContextVar<int> cvar("cvar", 0);
    run(task_group([&](TaskGroup& g) -> Coro<> {
        asyncio::Context ctx = asyncio::copy_context();
        auto set = [&cvar](int v) -> Coro<> {
            co_await sleep(0);
            cvar.set(v);
        };
        co_await g.create_task(set(1), "", ctx);
        EXPECT_EQ(ctx.get(cvar), std::optional<int>(1));
        co_await g.create_task(set(2), "", ctx);
        EXPECT_EQ(ctx.get(cvar), std::optional<int>(2));
    }));
}

TEST_F(TaskGroupTest, CreateTaskOnShuttingDownGroupRaisesAndDestroysTheCoroutineUnreported) {
    loop->set_debug(true);
    std::string message;
    try {
        run(task_group([&](TaskGroup& g) -> Coro<> {
            g.create_task(divide_by_zero_after(0));
            try {
                co_await sleep(1);
            } catch (const CancelledError&) {
            }
            try {
                g.create_task(nap(1));
            } catch (const asyncio::RuntimeError& e) {
                message = e.what();
            }
        }));
    } catch (const ExceptionGroup&) {
    }
    EXPECT_EQ(message, "TaskGroup <TaskGroup errors=1 cancelling> is shutting down");
    for (const auto& m : messages())
        EXPECT_EQ(m.find("never awaited"), std::string::npos) << m;
}

TEST_F(TaskGroupTest, CreateTaskOnFinishedGroupRaises) {
    loop->set_debug(true);
    std::optional<TaskGroup> kept;
    run(task_group([&](TaskGroup& g) -> Coro<> {
        kept = g;
        co_return;
    }));
    try {
        (void)kept->create_task(nap(1));
        FAIL() << "no RuntimeError";
    } catch (const asyncio::RuntimeError& e) {
        EXPECT_STREQ(e.what(), "TaskGroup <TaskGroup entered> is finished");
    }
    kept->cancel(); // harmless once the group has ended
    for (const auto& m : messages())
        EXPECT_EQ(m.find("never awaited"), std::string::npos) << m;
}

TEST_F(TaskGroupTest, CreateTaskWhileExitingWithChildrenLeftIsAllowed) {
    run(task_group([&](TaskGroup& g) -> Coro<> {
        g.create_task([&g]() -> Coro<> {
            co_await sleep(0.1);
            g.create_task(nap(0.1)); // the group is exiting, this child is not done yet
        });
        co_return;
    }));
    EXPECT_EQ(loop->time(), 0.2);
}

TEST_F(TaskGroupTest, UncancelRestoresCancellingAfterOwnCancellation) {
    run([&]() -> Coro<> {
        auto* task = &asyncio::current_task().core();
        try {
            co_await task_group([&](TaskGroup& g) -> Coro<> {
                g.create_task(divide_by_zero_after(0.1));
                co_await sleep(10);
            });
        } catch (const ExceptionGroup&) {
        }
        EXPECT_EQ(task->cancelling(), 0);
        co_await sleep(0.1); // the task goes on: the group's cancellation was withdrawn
    }());
}

TEST_F(TaskGroupTest, CancelEndsTheGroupWithoutError) {
    bool child_cancelled = false;
    int value = run([&]() -> Coro<int> {
        int v = co_await task_group([&](TaskGroup& g) -> Coro<int> {
            g.create_task([&]() -> Coro<> {
                try {
                    co_await sleep(10);
                } catch (const CancelledError&) {
                    child_cancelled = true;
                    throw;
                }
            });
            g.create_task([&g]() -> Coro<> {
                co_await sleep(0.5);
                g.cancel();
            });
            co_await sleep(10);
            co_return 7;
        });
        EXPECT_EQ(asyncio::current_task().cancelling(), 0);
        co_return v;
    }());
    EXPECT_TRUE(child_cancelled);
    EXPECT_EQ(value, 0); // the body gave no value: T{}
    EXPECT_EQ(loop->time(), 0.5);
}

TEST_F(TaskGroupTest, BodyValueIsTheGroupsValue) {
    EXPECT_EQ(run(task_group([](TaskGroup& g) -> Coro<std::string> {
                  auto t = g.create_task(value_after(0.1, 5));
                  co_return "v" + std::to_string(co_await t);
              })),
              "v5");
}

TEST_F(TaskGroupTest, OwnedCallableKeepsCapturesAlive) {
    std::vector<std::string> seen;
    run(task_group([&](TaskGroup& g) -> Coro<> {
        for (int i = 0; i < 3; ++i) {
            std::string name = "child-" + std::to_string(i);
            g.create_task([name, &seen]() -> Coro<> { // the closure dies here, but is owned
                co_await sleep(0.1);
                seen.push_back(name);
            });
        }
        co_return;
    }));
    EXPECT_EQ(seen, (std::vector<std::string>{"child-0", "child-1", "child-2"}));
}

TEST_F(TaskGroupTest, HundredThousandChildrenEveryThousandthFailing) {
    constexpr int n = 100'000;
    std::size_t errors = 0;
    int finished = 0;
    try {
        run(task_group([&](TaskGroup& g) -> Coro<> {
            for (int i = 0; i < n; ++i)
                g.create_task([i, &finished]() -> Coro<> {
                    if (i % 1000 == 999)
                        throw ValueErr(i);
                    ++finished;
                    co_return;
                });
            co_return;
        }));
    } catch (const ExceptionGroup& eg) {
        errors = eg.exceptions().size();
    }
    // Every child starts in the same iteration, before the group's cancellation could reach
    // one: all 100 failures are collected.
    EXPECT_EQ(errors, 100u);
    EXPECT_EQ(finished, n - 100);
}

TEST_F(TaskGroupTest, CancelledFromOutsideWhileChildrenAreBeingCreated) {
    int started = 0;
    run([&]() -> Coro<> {
        auto r = asyncio::create_task(task_group([&](TaskGroup& g) -> Coro<> {
            for (int i = 0; i < 100; ++i) {
                g.create_task([&]() -> Coro<> {
                    ++started;
                    co_await sleep(10);
                });
                co_await sleep(0); // the cancel arrives here, part way
            }
        }));
        co_await sleep(0);
        co_await sleep(0);
        r.cancel();
        bool cancelled = false;
        try {
            co_await r;
        } catch (const CancelledError&) {
            cancelled = true;
        }
        EXPECT_TRUE(cancelled);
        EXPECT_TRUE(r.cancelled());
    }());
    EXPECT_LT(started, 100);
    EXPECT_EQ(loop->time(), 0.0);
}

TEST_F(TaskGroupTest, TimeoutInsideGroupInsideTimeout) {
    run([&]() -> Coro<> {
        bool inner_timeout = false;
        co_await asyncio::timeout(5, [&]() -> Coro<> {
            co_await task_group([&](TaskGroup& g) -> Coro<> {
                g.create_task([&]() -> Coro<> {
                    try {
                        co_await asyncio::timeout(0.5, nap(10));
                    } catch (const asyncio::TimeoutError&) {
                        inner_timeout = true;
                    }
                });
                co_await sleep(1);
            });
        });
        EXPECT_TRUE(inner_timeout);
        EXPECT_EQ(asyncio::get_running_loop().time(), 1.0);
    }());
}

TEST(ExceptionGroupTest, WhatCountsSubExceptions) {
    ExceptionGroup one("unhandled errors in a TaskGroup", {std::make_exception_ptr(MyExc())});
    EXPECT_STREQ(one.what(), "unhandled errors in a TaskGroup (1 sub-exception)");
    ExceptionGroup two("m", {std::make_exception_ptr(MyExc()), std::make_exception_ptr(MyExc())});
    EXPECT_STREQ(two.what(), "m (2 sub-exceptions)");
}

TEST(ExceptionGroupTest, SubgroupAndSplitKeepNesting) {
    ExceptionGroup inner(
        "inner", {std::make_exception_ptr(MyExc()), std::make_exception_ptr(ZeroDivisionError())});
    ExceptionGroup outer(
        "outer", {std::make_exception_ptr(ZeroDivisionError()), std::make_exception_ptr(inner)});
    auto my = outer.subgroup<MyExc>();
    ASSERT_TRUE(my);
    EXPECT_EQ(my->message(), "outer");
    ASSERT_EQ(my->exceptions().size(), 1u);
    EXPECT_EQ(error_types(*my), types_of<ExceptionGroup>()); // nested, not flattened
    auto [zero, rest] = outer.split<ZeroDivisionError>();
    ASSERT_TRUE(zero);
    ASSERT_TRUE(rest);
    EXPECT_EQ(zero->exceptions().size(), 2u); // the leaf, and the inner group's leaf
    EXPECT_EQ(error_types(*rest), types_of<ExceptionGroup>());
    EXPECT_FALSE(outer.subgroup<asyncio::TimeoutError>());
    auto all = outer.subgroup<std::exception>();
    ASSERT_TRUE(all);
    EXPECT_EQ(all->exceptions().size(), 2u);
}

} // namespace
