// asyncio.TaskGroup: the cases of CPython's test_taskgroups.py (as TaskGroupTest.CPython_*), on
// virtual time, and our own: ExceptionGroup's subgroup/split, owned callables, a large group.
#include <asyncio.hpp>

#include <memory>
#include <optional>
#include <set>
#include <stdexcept>
#include <string>
#include <typeindex>
#include <vector>

#include "asyncio_test.hpp"

namespace {

using asyncio::CancelledError;
using asyncio::Coro;
using asyncio::ExceptionGroup;
using asyncio::sleep;
using asyncio::Task;
using asyncio::task_group;
using asyncio::TaskGroup;

struct MyExc : std::runtime_error {
    MyExc() : std::runtime_error("MyExc") {}
};
struct ZeroDivisionError : std::runtime_error {
    ZeroDivisionError() : std::runtime_error("division by zero") {}
};
struct ValueErr : std::runtime_error {
    explicit ValueErr(double t) : std::runtime_error(std::to_string(t)) {}
};
struct MyBaseExc {}; // not a std::exception: Python's BaseException subclass

std::set<std::type_index> error_types(const ExceptionGroup& eg) {
    std::set<std::type_index> types;
    for (const std::exception_ptr& e : eg.exceptions()) {
        try {
            std::rethrow_exception(e);
        } catch (const ExceptionGroup&) {
            types.insert(typeid(ExceptionGroup));
        } catch (const ZeroDivisionError&) {
            types.insert(typeid(ZeroDivisionError));
        } catch (const MyExc&) {
            types.insert(typeid(MyExc));
        } catch (const ValueErr&) {
            types.insert(typeid(ValueErr));
        } catch (const std::invalid_argument&) {
            types.insert(typeid(std::invalid_argument));
        } catch (const MyBaseExc&) {
            types.insert(typeid(MyBaseExc));
        } catch (...) {
            types.insert(typeid(void));
        }
    }
    return types;
}

template <class... E>
std::set<std::type_index> types_of() {
    return {std::type_index(typeid(E))...};
}

class TaskGroupTest : public asyncio::testing::LoopTest {};

Coro<void> nap(double delay) { co_await sleep(delay); }

Coro<int> value_after(double delay, int v) {
    co_await sleep(delay);
    co_return v;
}

Coro<void> divide_by_zero_after(double delay) {
    co_await sleep(delay);
    throw ZeroDivisionError();
}

Coro<void> crash_after(double t) {
    co_await sleep(t);
    throw ValueErr(t);
}

TEST_F(TaskGroupTest, CPython_taskgroup_01_ChildrenResults) {
    run([]() -> Coro<> {
        Task<int> t1, t2;
        co_await task_group([&](TaskGroup& g) -> Coro<> {
            t1 = g.create_task(value_after(0.1, 42));
            t2 = g.create_task(value_after(0.2, 11));
            co_return;
        });
        EXPECT_EQ(t1.result(), 42);
        EXPECT_EQ(t2.result(), 11);
        EXPECT_EQ(asyncio::get_running_loop().time(), 0.2);
    }());
}

TEST_F(TaskGroupTest, CPython_taskgroup_02_ChildCreatedAfterAwait) {
    run([]() -> Coro<> {
        Task<int> t1, t2;
        co_await task_group([&](TaskGroup& g) -> Coro<> {
            t1 = g.create_task(value_after(0.1, 42));
            co_await sleep(0.15);
            t2 = g.create_task(value_after(0.2, 11));
        });
        EXPECT_EQ(t1.result(), 42);
        EXPECT_EQ(t2.result(), 11);
    }());
}

TEST_F(TaskGroupTest, CPython_taskgroup_03_ChildCancelledExplicitlyIsNoError) {
    run([]() -> Coro<> {
        Task<int> t1, t2;
        co_await task_group([&](TaskGroup& g) -> Coro<> {
            t1 = g.create_task(value_after(1, 42));
            co_await sleep(0.15);
            t1.cancel();
            t2 = g.create_task(value_after(0.2, 11));
        });
        EXPECT_TRUE(t1.cancelled());
        EXPECT_EQ(t2.result(), 11);
    }());
}

TEST_F(TaskGroupTest, CPython_taskgroup_04_FailureCancelsSiblings) {
    int num = 0;
    bool t2_cancel = false;
    Task<void> t2;
    auto foo2 = [&]() -> Coro<> {
        try {
            co_await sleep(1);
        } catch (const CancelledError&) {
            t2_cancel = true;
            throw;
        }
        ++num;
    };
    auto runner = [&]() -> Coro<> {
        co_await task_group([&](TaskGroup& g) -> Coro<> {
            g.create_task(divide_by_zero_after(0.1));
            t2 = g.create_task(foo2);
            co_return;
        });
        num += 10;
    };
    try {
        run([&]() -> Coro<> { co_await asyncio::create_task(runner()); }());
        FAIL() << "no ExceptionGroup";
    } catch (const ExceptionGroup& eg) {
        EXPECT_EQ(error_types(eg), types_of<ZeroDivisionError>());
    }
    EXPECT_EQ(num, 0);
    EXPECT_TRUE(t2_cancel);
    EXPECT_TRUE(t2.cancelled());
}

TEST_F(TaskGroupTest, CPython_cancel_children_on_child_error) {
    int num = 0;
    bool t2_cancel = false;
    bool runner_cancel = false;
    auto foo2 = [&]() -> Coro<> {
        try {
            co_await sleep(5);
        } catch (const CancelledError&) {
            t2_cancel = true;
            throw;
        }
        ++num;
    };
    auto runner = [&]() -> Coro<> {
        co_await task_group([&](TaskGroup& g) -> Coro<> {
            g.create_task(divide_by_zero_after(0.1));
            g.create_task(divide_by_zero_after(0.1));
            g.create_task(divide_by_zero_after(0.1));
            g.create_task(foo2);
            try {
                co_await sleep(10);
            } catch (const CancelledError&) {
                runner_cancel = true;
                throw;
            }
        });
        num += 10;
    };
    try {
        run(runner());
        FAIL() << "no ExceptionGroup";
    } catch (const ExceptionGroup& eg) {
        EXPECT_EQ(error_types(eg), types_of<ZeroDivisionError>());
        EXPECT_EQ(eg.exceptions().size(), 3u); // all three failed in the same iteration
    }
    EXPECT_EQ(num, 0);
    EXPECT_TRUE(t2_cancel);
    EXPECT_TRUE(runner_cancel);
}

Coro<void> count_cancel(int& num, double delay) {
    try {
        co_await sleep(delay);
    } catch (const CancelledError&) {
        ++num;
        throw;
    }
}

TEST_F(TaskGroupTest, CPython_cancellation_OuterCancelPropagatesWithMessage) {
    int num = 0;
    run([&]() -> Coro<> {
        auto r = asyncio::create_task(task_group([&](TaskGroup& g) -> Coro<> {
            for (int i = 0; i < 5; ++i)
                g.create_task(count_cancel(num, 5));
            co_return;
        }));
        co_await sleep(0.1);
        EXPECT_FALSE(r.done());
        r.cancel("test");
        try {
            co_await r;
            ADD_FAILURE() << "no CancelledError";
        } catch (const CancelledError& e) {
            EXPECT_EQ(e.message(), "test");
        }
    }());
    EXPECT_EQ(num, 5);
}

TEST_F(TaskGroupTest, CPython_taskgroup_07_BodyAndChildrenCancelled) {
    int num = 0;
    run([&]() -> Coro<> {
        auto r = asyncio::create_task(task_group([&](TaskGroup& g) -> Coro<> {
            for (int i = 0; i < 5; ++i)
                g.create_task(count_cancel(num, 5));
            try {
                co_await sleep(10);
            } catch (const CancelledError&) {
                num += 10;
                throw;
            }
        }));
        co_await sleep(0.1);
        r.cancel();
        bool cancelled = false;
        try {
            co_await r;
        } catch (const CancelledError&) {
            cancelled = true;
        }
        EXPECT_TRUE(cancelled);
    }());
    EXPECT_EQ(num, 15);
}

Coro<void> fail_when_cancelled() {
    try {
        co_await sleep(10);
    } catch (const CancelledError&) {
    }
    throw ZeroDivisionError(); // Python's `finally: 1 / 0`
}

TEST_F(TaskGroupTest, CPython_taskgroup_08_ChildrenFailWhileCancelled) {
    run([&]() -> Coro<> {
        auto r = asyncio::create_task(task_group([&](TaskGroup& g) -> Coro<> {
            for (int i = 0; i < 5; ++i)
                g.create_task(fail_when_cancelled());
            co_await sleep(10);
        }));
        co_await sleep(0.1);
        EXPECT_FALSE(r.done());
        r.cancel();
        try {
            co_await r;
            ADD_FAILURE() << "no ExceptionGroup";
        } catch (const ExceptionGroup& eg) {
            EXPECT_EQ(error_types(eg), types_of<ZeroDivisionError>());
        }
    }());
}

TEST_F(TaskGroupTest, CPython_taskgroup_09_BodyFailsAfterAwait) {
    Task<int> t1, t2;
    try {
        run(task_group([&](TaskGroup& g) -> Coro<> {
            t1 = g.create_task(value_after(1, 42));
            t2 = g.create_task(value_after(2, 11));
            co_await sleep(0.1);
            throw ZeroDivisionError();
        }));
        FAIL() << "no ExceptionGroup";
    } catch (const ExceptionGroup& eg) {
        EXPECT_EQ(error_types(eg), types_of<ZeroDivisionError>());
    }
    EXPECT_TRUE(t1.cancelled());
    EXPECT_TRUE(t2.cancelled());
}

TEST_F(TaskGroupTest, CPython_taskgroup_10_BodyFailsAtOnce) {
    Task<int> t1, t2;
    try {
        run(task_group([&](TaskGroup& g) -> Coro<> {
            t1 = g.create_task(value_after(1, 42));
            t2 = g.create_task(value_after(2, 11));
            throw ZeroDivisionError();
            co_return;
        }));
        FAIL() << "no ExceptionGroup";
    } catch (const ExceptionGroup& eg) {
        EXPECT_EQ(error_types(eg), types_of<ZeroDivisionError>());
    }
    EXPECT_TRUE(t1.cancelled());
    EXPECT_TRUE(t2.cancelled());
}

TEST_F(TaskGroupTest, CPython_taskgroup_11_and_12_NestedGroupsCancelledFromOutside) {
    for (bool outer_child : {false, true}) {
        run([&]() -> Coro<> {
            auto r = asyncio::create_task(task_group([&](TaskGroup& g1) -> Coro<> {
                if (outer_child)
                    g1.create_task(nap(10));
                co_await task_group([&](TaskGroup& g2) -> Coro<> {
                    for (int i = 0; i < 5; ++i)
                        g2.create_task(fail_when_cancelled());
                    co_await sleep(10);
                });
            }));
            co_await sleep(0.1);
            EXPECT_FALSE(r.done());
            r.cancel();
            try {
                co_await r;
                ADD_FAILURE() << "no ExceptionGroup";
            } catch (const ExceptionGroup& eg) {
                EXPECT_EQ(error_types(eg), types_of<ExceptionGroup>()) << outer_child;
                try {
                    std::rethrow_exception(eg.exceptions()[0]);
                } catch (const ExceptionGroup& inner) {
                    EXPECT_EQ(error_types(inner), types_of<ZeroDivisionError>());
                }
            }
        }());
    }
}

TEST_F(TaskGroupTest, CPython_taskgroup_13_OuterChildFailsFirst) {
    try {
        run(task_group([&](TaskGroup& g1) -> Coro<> {
            g1.create_task(crash_after(0.1));
            co_await task_group([&](TaskGroup& g2) -> Coro<> {
                g2.create_task(crash_after(10));
                co_return;
            });
        }));
        FAIL() << "no ExceptionGroup";
    } catch (const ExceptionGroup& eg) {
        EXPECT_EQ(error_types(eg), types_of<ValueErr>());
    }
}

TEST_F(TaskGroupTest, CPython_taskgroup_14_InnerGroupNestsItsExceptionGroup) {
    try {
        run(task_group([&](TaskGroup& g1) -> Coro<> {
            g1.create_task(crash_after(10));
            co_await task_group([&](TaskGroup& g2) -> Coro<> {
                g2.create_task(crash_after(0.1));
                co_return;
            });
        }));
        FAIL() << "no ExceptionGroup";
    } catch (const ExceptionGroup& eg) {
        ASSERT_EQ(error_types(eg), types_of<ExceptionGroup>());
        try {
            std::rethrow_exception(eg.exceptions()[0]);
        } catch (const ExceptionGroup& inner) {
            EXPECT_EQ(error_types(inner), types_of<ValueErr>());
        }
    }
}

TEST_F(TaskGroupTest, CPython_taskgroup_15_and_16_CleanupAwaitsInsideCancelledBody) {
    for (bool nested_task : {false, true}) {
        run([&]() -> Coro<> {
            auto group = [&]() -> Coro<> {
                co_await task_group([&](TaskGroup& g1) -> Coro<> {
                    g1.create_task(divide_by_zero_after(0.3));
                    bool cancelled = false;
                    try {
                        co_await sleep(10);
                    } catch (const CancelledError&) {
                        cancelled = true;
                    }
                    if (cancelled) {
                        co_await sleep(0.5);
                        throw CancelledError();
                    }
                });
            };
            auto runner = [&]() -> Coro<> {
                if (nested_task)
                    co_await asyncio::create_task(group());
                else
                    co_await group();
            };
            auto r = asyncio::create_task(runner());
            co_await sleep(0.1);
            EXPECT_FALSE(r.done());
            r.cancel();
            // The child fails while the body cleans up after the outer cancel: its error wins.
            try {
                co_await r;
                ADD_FAILURE() << "no ExceptionGroup";
            } catch (const ExceptionGroup& eg) {
                EXPECT_EQ(error_types(eg), types_of<ZeroDivisionError>()) << nested_task;
            }
        }());
    }
}

TEST_F(TaskGroupTest, CPython_taskgroup_17_EmptyGroupBodyCancelled) {
    int num = 0;
    run([&]() -> Coro<> {
        auto r = asyncio::create_task(task_group([&](TaskGroup&) -> Coro<> {
            try {
                co_await sleep(10);
            } catch (const CancelledError&) {
                num += 10;
                throw;
            }
        }));
        co_await sleep(0.1);
        r.cancel();
        bool cancelled = false;
        try {
            co_await r;
        } catch (const CancelledError&) {
            cancelled = true;
        }
        EXPECT_TRUE(cancelled);
    }());
    EXPECT_EQ(num, 10);
}

TEST_F(TaskGroupTest, CPython_taskgroup_18_BodyTurnsCancelIntoError) {
    int num = 0;
    run([&]() -> Coro<> {
        auto r = asyncio::create_task(task_group([&](TaskGroup&) -> Coro<> {
            try {
                co_await sleep(10);
            } catch (const CancelledError&) {
                num += 10;
                throw MyExc();
            }
        }));
        co_await sleep(0.1);
        r.cancel();
        try {
            co_await r;
            ADD_FAILURE() << "no ExceptionGroup";
        } catch (const ExceptionGroup& eg) {
            EXPECT_EQ(error_types(eg), types_of<MyExc>());
        }
    }());
    EXPECT_EQ(num, 10);
}

TEST_F(TaskGroupTest, CPython_taskgroup_19_BodyAndChildErrorsTogether) {
    try {
        run(task_group([&](TaskGroup& g) -> Coro<> {
            g.create_task(divide_by_zero_after(0.1));
            try {
                co_await sleep(10);
            } catch (const CancelledError&) {
            }
            throw MyExc(); // Python's `finally: raise MyExc`
        }));
        FAIL() << "no ExceptionGroup";
    } catch (const ExceptionGroup& eg) {
        EXPECT_EQ(error_types(eg), (types_of<MyExc, ZeroDivisionError>()));
        // The children's errors first, the body's last.
        EXPECT_EQ(eg.exceptions().size(), 2u);
        EXPECT_TRUE(asyncio::testing::holds<MyExc>(eg.exceptions().back()));
    }
}

TEST_F(TaskGroupTest, CPython_taskgroup_20_KeyboardInterruptFromBody) {
    bool raised = false;
    try {
        run(task_group([&](TaskGroup& g) -> Coro<> {
            g.create_task(divide_by_zero_after(0.1));
            try {
                co_await sleep(10);
            } catch (const CancelledError&) {
            }
            throw asyncio::KeyboardInterrupt();
        }));
    } catch (const asyncio::KeyboardInterrupt&) {
        raised = true;
    }
    EXPECT_TRUE(raised);
    // The child's error, which the KeyboardInterrupt would hide, is reported (gh-135736).
    ASSERT_EQ(reports.size(), 1u);
    EXPECT_TRUE(asyncio::testing::holds<ZeroDivisionError>(reports[0].exception));
}

TEST_F(TaskGroupTest, CPython_taskgroup_20a_OtherBaseErrorsAreGrouped) {
    try {
        run(task_group([&](TaskGroup& g) -> Coro<> {
            g.create_task(divide_by_zero_after(0.1));
            try {
                co_await sleep(10);
            } catch (const CancelledError&) {
            }
            throw MyBaseExc();
        }));
        FAIL() << "no ExceptionGroup";
    } catch (const ExceptionGroup& eg) {
        EXPECT_EQ(error_types(eg), (types_of<MyBaseExc, ZeroDivisionError>()));
    }
}

TEST_F(TaskGroupTest, CPython_taskgroup_21_KeyboardInterruptFromChild) {
    bool raised = false;
    try {
        run(task_group([&](TaskGroup& g) -> Coro<> {
            g.create_task([]() -> Coro<> {
                co_await sleep(0.1);
                throw asyncio::KeyboardInterrupt();
            });
            try {
                co_await sleep(10);
            } catch (const CancelledError&) {
            }
            throw std::invalid_argument("TypeError");
        }));
    } catch (const asyncio::KeyboardInterrupt&) {
        raised = true;
    }
    EXPECT_TRUE(raised);
}

TEST_F(TaskGroupTest, CPython_taskgroup_21a_BaseErrorOfChildGrouped) {
    try {
        run(task_group([&](TaskGroup& g) -> Coro<> {
            g.create_task([]() -> Coro<> {
                co_await sleep(0.1);
                throw MyBaseExc();
            });
            try {
                co_await sleep(10);
            } catch (const CancelledError&) {
            }
            throw std::invalid_argument("TypeError");
        }));
        FAIL() << "no ExceptionGroup";
    } catch (const ExceptionGroup& eg) {
        EXPECT_EQ(error_types(eg), (types_of<MyBaseExc, std::invalid_argument>()));
    }
}

TEST_F(TaskGroupTest, CPython_taskgroup_22_CancelWhileWaitingForChildren) {
    run([&]() -> Coro<> {
        auto r = asyncio::create_task(task_group([&](TaskGroup& g) -> Coro<> {
            g.create_task(value_after(1, 42));
            g.create_task(value_after(2, 11));
            co_return;
        }));
        co_await sleep(0.05);
        r.cancel();
        bool cancelled = false;
        try {
            co_await r;
        } catch (const CancelledError&) {
            cancelled = true;
        }
        EXPECT_TRUE(cancelled);
        EXPECT_EQ(r.cancelling(), 1); // the outer cancel stays requested
    }());
}

TEST_F(TaskGroupTest, CPython_taskgroup_24_ChildrenCreateChildrenWhileExiting) {
    int done = 0;
    run(task_group([&](TaskGroup& g) -> Coro<> {
        g.create_task([&]() -> Coro<> {
            co_await sleep(0.1);
            g.create_task([&]() -> Coro<> {
                co_await sleep(0.1);
                ++done;
            });
            g.create_task([&]() -> Coro<> {
                co_await sleep(0.2);
                ++done;
            });
        });
        co_return;
    }));
    EXPECT_EQ(done, 2);
    EXPECT_DOUBLE_EQ(loop->time(), 0.3);
}

Coro<void> hydra(TaskGroup& g, int& n) {
    ++n;
    co_await sleep(0.01);
    g.create_task(hydra(g, n));
    g.create_task(hydra(g, n));
}

TEST_F(TaskGroupTest, CPython_taskgroup_25_Hydra) {
    int nhydras = 0;
    try {
        run(task_group([&](TaskGroup& g) -> Coro<> {
            g.create_task(hydra(g, nhydras));
            g.create_task([&]() -> Coro<> {
                while (nhydras < 10)
                    co_await sleep(0.015);
                throw ZeroDivisionError();
            });
            co_return;
        }));
        FAIL() << "no ExceptionGroup";
    } catch (const ExceptionGroup& eg) {
        EXPECT_EQ(error_types(eg), types_of<ZeroDivisionError>());
    }
    EXPECT_GE(nhydras, 10);
}

TEST_F(TaskGroupTest, CPython_taskgroup_task_name) {
    run(task_group([&](TaskGroup& g) -> Coro<> {
        auto t = g.create_task(nap(0), "yolo");
        EXPECT_EQ(t.get_name(), "yolo");
        co_return;
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
