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
    if (n > 1'000'000) // never reached: the group ends first (and clang sees an end)
        co_return;
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

} // namespace
