// asyncio.timeout / timeout_at: the cases of CPython's test_timeouts.py (as TimeoutTest.CPython_*)
// on virtual time, and the races of our own (expiry in the iteration the work completes, a real
// cancel racing the deadline, nested scopes with the outer expiring first).
#include <asyncio.hpp>

#include <exception>
#include <optional>
#include <sstream>
#include <stdexcept>
#include <string>

#include "asyncio_test.hpp"

namespace {

using asyncio::CancelledError;
using asyncio::Coro;
using asyncio::sleep;
using asyncio::Timeout;
using asyncio::timeout;
using asyncio::timeout_at;
using asyncio::TimeoutError;

class TimeoutTest : public asyncio::testing::LoopTest {};

Coro<void> nap(double delay) { co_await sleep(delay); }

double now() { return asyncio::get_running_loop().time(); }

template <class A>
Coro<bool> times_out(A&& aw) {
    try {
        co_await std::forward<A>(aw);
    } catch (const TimeoutError&) {
        co_return true;
    }
    co_return false;
}

std::string repr(const Timeout& t) {
    std::ostringstream os;
    os << t;
    return os.str();
}

TEST_F(TimeoutTest, CPython_timeout_basic) {
    run([]() -> Coro<> {
        Timeout* cm = nullptr;
        bool expired = false;
        EXPECT_TRUE(co_await times_out(timeout(0.01, [&](Timeout& t) -> Coro<> {
            cm = &t;
            co_await sleep(10);
        })));
        (void)cm;
        co_await timeout(0.01, [&](Timeout& t) -> Coro<> {
            try {
                co_await sleep(10);
            } catch (const CancelledError&) {
            }
            expired = t.expired(); // swallowed: the body's value stands, expired() says why
        });
        EXPECT_TRUE(expired);
        EXPECT_DOUBLE_EQ(now(), 0.02);
    }());
}

TEST_F(TimeoutTest, CPython_timeout_at_basic) {
    run([]() -> Coro<> {
        const double deadline = now() + 0.01;
        std::optional<double> when;
        bool expired = false;
        EXPECT_TRUE(co_await times_out(timeout_at(deadline, [&](Timeout& cm) -> Coro<> {
            when = cm.when();
            try {
                co_await sleep(10);
            } catch (const CancelledError&) {
                expired = cm.expired();
                throw;
            }
        })));
        EXPECT_TRUE(expired);
        EXPECT_EQ(when, deadline);
    }());
}

TEST_F(TimeoutTest, CPython_nested_timeouts_OnlyTheOuterRaisesTimeoutError) {
    run([]() -> Coro<> {
        const double deadline = now() + 0.01;
        bool cancelled = false;
        bool cm1_expired = false;
        bool cm2_expired = false;
        EXPECT_TRUE(co_await times_out(timeout_at(deadline, [&](Timeout& cm1) -> Coro<> {
            try {
                co_await timeout_at(deadline, [&](Timeout& cm2) -> Coro<> {
                    try {
                        co_await sleep(10);
                    } catch (const CancelledError&) {
                        cm2_expired = cm2.expired();
                        throw;
                    }
                });
            } catch (const CancelledError&) {
                cancelled = true;
                cm1_expired = cm1.expired();
                throw;
            }
        })));
        EXPECT_TRUE(cancelled);
        EXPECT_TRUE(cm1_expired);
        EXPECT_TRUE(cm2_expired);
    }());
}

TEST_F(TimeoutTest, CPython_waiter_cancelled) {
    run([]() -> Coro<> {
        bool cancelled = false;
        EXPECT_TRUE(co_await times_out(timeout(0.01, [&]() -> Coro<> {
            try {
                co_await sleep(10);
            } catch (const CancelledError&) {
                cancelled = true;
                throw;
            }
        })));
        EXPECT_TRUE(cancelled);
    }());
}

TEST_F(TimeoutTest, CPython_timeout_not_called) {
    run([]() -> Coro<> {
        std::optional<double> when;
        bool expired = true;
        co_await timeout(10, [&](Timeout& cm) -> Coro<> {
            co_await sleep(0.01);
            when = cm.when();
            expired = cm.expired();
        });
        EXPECT_FALSE(expired);
        EXPECT_GT(when.value_or(0), now());
    }());
}

TEST_F(TimeoutTest, CPython_timeout_disabled_and_timeout_at_disabled) {
    run([]() -> Coro<> {
        for (bool at : {false, true}) {
            std::optional<double> when = 1.0;
            auto body = [&](Timeout& cm) -> Coro<> {
                co_await sleep(0.01);
                when = cm.when();
                EXPECT_FALSE(cm.expired());
            };
            if (at)
                co_await timeout_at(std::nullopt, body);
            else
                co_await timeout(std::nullopt, body);
            EXPECT_EQ(when, std::nullopt);
        }
    }());
}

TEST_F(TimeoutTest, CPython_timeout_zero_and_in_the_past) {
    for (double delay : {0.0, -11.0}) {
        for (double inner_sleep : {10.0, 0.0}) {
            run([&]() -> Coro<> {
                const double t0 = now();
                std::optional<double> when;
                bool expired = false;
                EXPECT_TRUE(co_await times_out(timeout(delay,
                                                       [&](Timeout& cm) -> Coro<> {
                                                           when = cm.when();
                                                           try {
                                                               co_await sleep(inner_sleep);
                                                           } catch (const CancelledError&) {
                                                               expired = cm.expired();
                                                               throw;
                                                           }
                                                       })))
                    << delay << " " << inner_sleep;
                EXPECT_TRUE(expired);
                EXPECT_DOUBLE_EQ(when.value_or(1e9), t0 + delay);
            }());
        }
    }
}

TEST_F(TimeoutTest, CPython_foreign_exception_passed) {
    run([]() -> Coro<> {
        bool expired = true;
        try {
            co_await timeout(0.01, [&](Timeout& cm) -> Coro<> {
                expired = cm.expired();
                throw std::out_of_range("KeyError");
                co_return;
            });
            ADD_FAILURE() << "no exception";
        } catch (const std::out_of_range&) {
        }
        EXPECT_FALSE(expired);
    }());
}

TEST_F(TimeoutTest, CPython_foreign_exception_on_timeout) {
    run([]() -> Coro<> {
        bool zero = false;
        try {
            co_await timeout(0.01, []() -> Coro<> {
                try {
                    co_await sleep(1);
                } catch (const CancelledError&) {
                }
                throw std::domain_error("ZeroDivisionError"); // Python's `finally: 1/0`
            });
        } catch (const std::domain_error&) {
            zero = true;
        }
        EXPECT_TRUE(zero);
    }());
}

TEST_F(TimeoutTest, CPython_foreign_cancel_doesnt_timeout_if_not_expired) {
    run([]() -> Coro<> {
        auto t = asyncio::create_task([]() -> Coro<bool> {
            bool expired = true;
            try {
                co_await timeout(10, [&](Timeout& cm) -> Coro<> {
                    asyncio::current_task().cancel();
                    try {
                        co_await sleep(10);
                    } catch (const CancelledError&) {
                        expired = cm.expired();
                        throw;
                    }
                });
            } catch (const CancelledError&) {
                co_return !expired;
            }
            co_return false;
        }());
        EXPECT_TRUE(co_await t);
    }());
}

TEST_F(TimeoutTest, CPython_outer_task_is_not_cancelled) {
    run([]() -> Coro<> {
        auto task = asyncio::create_task(
            []() -> Coro<bool> { co_return co_await times_out(timeout(0.001, nap(10))); }());
        EXPECT_TRUE(co_await task);
        EXPECT_FALSE(task.cancelled());
        EXPECT_TRUE(task.done());
    }());
}

TEST_F(TimeoutTest, CPython_nested_timeouts_loop_busy_OuterExpiresAfterInner) {
    run([]() -> Coro<> {
        const double t0 = now();
        EXPECT_TRUE(co_await times_out(timeout(0.1, [&]() -> Coro<> {
            EXPECT_TRUE(co_await times_out(timeout(0.01, nap(1))));
            co_await sleep(10); // interrupted by the outer scope
        })));
        EXPECT_DOUBLE_EQ(now(), t0 + 0.1);
    }());
}

TEST_F(TimeoutTest, CPython_reschedule) {
    run([]() -> Coro<> {
        auto& loop = asyncio::get_running_loop();
        asyncio::Future<Timeout*> fut = loop.create_future<Timeout*>();
        const double deadline1 = loop.time() + 10;
        const double deadline2 = deadline1 + 20;
        auto task = asyncio::create_task(timeout_at(deadline1, [&](Timeout& cm) -> Coro<> {
            fut.set_result(&cm);
            co_await sleep(50);
        }));
        Timeout* cm = co_await fut;
        EXPECT_EQ(cm->when(), deadline1);
        cm->reschedule(deadline2);
        EXPECT_EQ(cm->when(), deadline2);
        cm->reschedule(std::nullopt);
        EXPECT_EQ(cm->when(), std::nullopt);
        EXPECT_FALSE(cm->expired());
        task.cancel();
        bool cancelled = false;
        try {
            co_await task;
        } catch (const CancelledError&) {
            cancelled = true;
        }
        EXPECT_TRUE(cancelled);
    }());
}

TEST_F(TimeoutTest, RescheduleIntoThePastExpiresAtTheNextIteration) {
    run([]() -> Coro<> {
        EXPECT_TRUE(co_await times_out(timeout(10, [&](Timeout& cm) -> Coro<> {
            cm.reschedule(now() - 1);
            co_await sleep(0);
            ADD_FAILURE() << "the sleep(0) should have been cancelled";
        })));
        EXPECT_EQ(now(), 0.0);
    }());
}

TEST_F(TimeoutTest, CPython_repr_active_expired_finished_disabled) {
    run([]() -> Coro<> {
        co_await timeout(10, [](Timeout& cm) -> Coro<> {
            EXPECT_EQ(repr(cm), "<Timeout [active] when=10>");
            co_return;
        });
        co_await timeout(std::nullopt, [](Timeout& cm) -> Coro<> {
            EXPECT_EQ(repr(cm), "<Timeout [active] when=None>");
            co_return;
        });
        std::string inside;
        co_await timeout(0.01, [&](Timeout& cm) -> Coro<> {
            try {
                co_await sleep(10);
            } catch (const CancelledError&) {
                inside = repr(cm);
            }
        });
        EXPECT_EQ(inside, "<Timeout [expiring]>");
    }());
}

TEST_F(TimeoutTest, CPython_timeout_finished_RescheduleRaises) {
    run([]() -> Coro<> {
        std::string expiring;
        co_await timeout(0.01, [&](Timeout& cm) -> Coro<> {
            try {
                co_await sleep(10);
            } catch (const CancelledError&) {
            }
            try {
                cm.reschedule(1);
            } catch (const asyncio::RuntimeError& e) {
                expiring = e.what();
            }
        });
        EXPECT_EQ(expiring, "Cannot change state of expiring Timeout");
    }());
}

TEST_F(TimeoutTest, CPython_nested_timeout_in_finally) {
    run([]() -> Coro<> {
        bool inner = false;
        EXPECT_TRUE(co_await times_out(timeout(0.01, [&]() -> Coro<> {
            std::exception_ptr error;
            try {
                co_await sleep(1);
            } catch (const CancelledError&) {
                error = std::current_exception();
            }
            inner = co_await times_out(timeout(0.01, nap(10))); // Python's `finally:` block
            if (error)
                std::rethrow_exception(error);
        })));
        EXPECT_TRUE(inner);
    }());
}

TEST_F(TimeoutTest, CPython_timeout_after_cancellation) {
    run([]() -> Coro<> {
        try {
            asyncio::current_task().cancel();
            co_await sleep(1);
        } catch (const CancelledError&) {
        }
        EXPECT_TRUE(co_await times_out(timeout(0.0, nap(1))));
    }());
}

TEST_F(TimeoutTest, CPython_cancel_in_timeout_after_cancellation) {
    run([]() -> Coro<> {
        try {
            asyncio::current_task().cancel();
            co_await sleep(1);
        } catch (const CancelledError&) {
        }
        bool cancelled = false;
        try {
            co_await timeout(1.0, []() -> Coro<> {
                asyncio::current_task().cancel();
                co_await sleep(2);
            });
        } catch (const CancelledError&) {
            cancelled = true;
        }
        EXPECT_TRUE(cancelled);
    }());
}

TEST_F(TimeoutTest, CPython_timeout_exception_cause_IsTheCancellation) {
    run([]() -> Coro<> {
        bool nested_cancel = false;
        try {
            co_await timeout(0, nap(1));
        } catch (const TimeoutError& e) {
            try {
                std::rethrow_if_nested(e);
            } catch (const CancelledError&) {
                nested_cancel = true;
            }
        }
        EXPECT_TRUE(nested_cancel);
    }());
}

TEST_F(TimeoutTest, CoroutineFormGivesItsValue) {
    EXPECT_EQ(run([]() -> Coro<int> {
                  co_return co_await timeout(1.5, []() -> Coro<int> {
                      co_await sleep(1);
                      co_return 7;
                  }());
              }()),
              7);
}

TEST_F(TimeoutTest, ExpiryInTheIterationTheWorkCompletesKeepsTheResult) {
    // The work's timer and the scope's are due in the same iteration; the work resumes first.
    EXPECT_EQ(run([]() -> Coro<int> {
                  co_return co_await timeout(1, []() -> Coro<int> {
                      co_await sleep(1);
                      co_return 5;
                  }());
              }()),
              5);
}

TEST_F(TimeoutTest, RealCancelRacingTheDeadlinePropagatesAsCancelledError) {
    run([this]() -> Coro<> {
        auto t = asyncio::create_task([]() -> Coro<> { co_await timeout(1, nap(10)); }());
        loop->call_at(1.0, [t]() mutable { t.cancel(); }); // the same iteration as the deadline
        bool cancelled = false;
        try {
            co_await t;
        } catch (const CancelledError&) {
            cancelled = true;
        }
        EXPECT_TRUE(cancelled);
    }());
}

TEST_F(TimeoutTest, NestedScopesOuterExpiresFirst) {
    run([]() -> Coro<> {
        bool inner_cancelled = false;
        EXPECT_TRUE(co_await times_out(timeout(1, [&]() -> Coro<> {
            try {
                co_await timeout(5, nap(10));
            } catch (const CancelledError&) {
                inner_cancelled = true; // the inner scope did not expire: it passes the cancel on
                throw;
            }
        })));
        EXPECT_TRUE(inner_cancelled);
        EXPECT_EQ(now(), 1.0);
    }());
}

TEST_F(TimeoutTest, NaNDelayIsValueError) {
    run([]() -> Coro<> {
        EXPECT_THROW((void)timeout(std::nan(""), nap(1)), asyncio::ValueError);
        co_return;
    }());
}

} // namespace
