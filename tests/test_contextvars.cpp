// Context variables: ContextVar, Token, Context, copy_context, the persistent map behind them,
// and how tasks, callbacks and the exception handler carry contexts (the CTX cases of CASES.md).
#include <gtest/gtest.h>

#include <asyncio.hpp>
#include <cstdint>
#include <map>
#include <memory>
#include <optional>
#include <sstream>
#include <string>
#include <vector>

#include "asyncio_test.hpp"

namespace {

using namespace asyncio;
using asyncio::testing::LoopTest;

class ContextTest : public LoopTest {};

// prefix + number (built with an ostream: g++ 12 at -O3 warns falsely about string concatenation)
std::string label(const std::string& prefix, int n) {
    std::ostringstream os;
    os << prefix << n;
    return os.str();
}

struct Lcg {
    std::uint64_t state;
    std::uint32_t next() {
        state = state * 6364136223846793005ULL + 1442695040888963407ULL;
        return static_cast<std::uint32_t>(state >> 33);
    }
};

// CTX-01: a child task takes a snapshot of the context at its creation: it sees 'nope' although
// the parent sets 'yes' right after creating it, and what it sets does not leak back.
TEST_F(ContextTest, CTX_01) {
    ContextVar<std::string> cvar("cvar", "nope");
    auto sub = [&]() -> Coro<> {
        co_await sleep(0.01);
        EXPECT_EQ(cvar.get(), "nope");
        cvar.set("something else");
    };
    auto main = [&]() -> Coro<> {
        EXPECT_EQ(cvar.get(), "nope");
        Task<> subtask = create_task(sub());
        cvar.set("yes");
        EXPECT_EQ(cvar.get(), "yes");
        co_await subtask;
        EXPECT_EQ(cvar.get(), "yes");
    };
    run(main());
}

// CTX-02: a future's done callback that sets the variable does not change the awaiting task's
// context; what the task sets persists across its awaits and sleeps; the outer context is
// unchanged at the end.
TEST_F(ContextTest, CTX_02) {
    ContextVar<std::string> cvar("cvar", "nope");
    auto main = [&]() -> Coro<> {
        EXPECT_EQ(cvar.get(), "nope");
        for (int j = 0; j < 2; ++j) {
            Future<void> fut = loop->create_future<void>();
            // This change must not pollute the context of the main() task.
            fut.add_done_callback([&] { cvar.set("something else"); });
            cvar.set(label("yes", j));
            loop->call_soon([fut]() mutable { fut.set_result(); });
            co_await fut;
            EXPECT_EQ(cvar.get(), label("yes", j));
            for (int i = 0; i < 3; ++i) {
                std::string v = label(label("yes", i) + "-", j);
                cvar.set(v);
                co_await sleep(0.001);
                EXPECT_EQ(cvar.get(), v);
            }
        }
    };
    run(main());
    EXPECT_EQ(cvar.get(), "nope");
}

// CTX-03: in 100 concurrent tasks, each setting its own values and checking them after seeded
// random sleeps, every task always sees its own value; outside the loop the default (-1) stays.
TEST_F(ContextTest, CTX_03) {
    ContextVar<int> cvar("cvar", -1);
    Lcg rng{42};
    auto sub = [&](int num) -> Coro<> {
        for (int i = 0; i < 10; ++i) {
            cvar.set(num + i);
            co_await sleep(0.001 + (rng.next() % 1000) * 0.000049);
            EXPECT_EQ(cvar.get(), num + i);
        }
    };
    auto main = [&]() -> Coro<> {
        std::vector<Task<>> tasks;
        for (int i = 0; i < 100; ++i)
            tasks.push_back(create_task(sub(static_cast<int>(rng.next() % 11))));
        for (auto& t : tasks)
            co_await t;
    };
    run(main());
    EXPECT_EQ(cvar.get(), -1);
}

// CTX-05 (TaskGroup does not exist in this module; the same through create_task's context
// argument, which TaskGroup.create_task passes on): a task created with context=ctx runs in ctx,
// so after each child finishes ctx shows the value it set (1, then 2).
TEST_F(ContextTest, CTX_05) {
    ContextVar<int> cvar("cvar");
    auto coro = [&](int val) -> Coro<> {
        co_await sleep(0);
        cvar.set(val);
    };
    auto main = [&]() -> Coro<> {
        Context ctx = copy_context();
        EXPECT_EQ(ctx.get(cvar), std::nullopt);
        Task<> t1 = create_task(coro(1), "", ctx);
        co_await t1;
        EXPECT_EQ(ctx.get(cvar), 1);
        Task<> t2 = create_task(coro(2), "", ctx);
        co_await t2;
        EXPECT_EQ(ctx.get(cvar), 2);
        EXPECT_THROW(cvar.get(), LookupError); // the caller's own context is untouched
    };
    run(main());
}

// CTX-06: when an abandoned task's unretrieved exception is reported, the exception handler
// runs in that task's context (it sees 'bar', set by the task).
TEST_F(ContextTest, CTX_06) {
    ContextVar<std::string> name("name", "foo");
    std::vector<std::string> seen;
    loop->set_exception_handler(
        [&](EventLoop&, const ExceptionContext&) { seen.push_back(name.get()); });
    auto task = [&]() -> Coro<> {
        name.set("bar");
        co_await sleep(0);
        throw ValueError("division by zero");
    };
    auto main = [&]() -> Coro<> {
        (void)create_task(task()); // nobody keeps it
        for (int i = 0; i < 3; ++i)
            co_await sleep(0);
    };
    run(main());
    EXPECT_EQ(seen, std::vector<std::string>{"bar"});
    EXPECT_EQ(name.get(), "foo");
}

// CTX-07: when a call_soon callback throws, the exception handler runs in the callback's context
// (it sees 'bar', set by the callback).
TEST_F(ContextTest, CTX_07) {
    ContextVar<std::string> name("name", "foo");
    std::vector<std::string> seen;
    loop->set_exception_handler(
        [&](EventLoop&, const ExceptionContext&) { seen.push_back(name.get()); });
    loop->call_soon([&] {
        name.set("bar");
        throw ValueError("division by zero");
    });
    loop->stop();
    loop->run_forever();
    EXPECT_EQ(seen, std::vector<std::string>{"bar"});
    EXPECT_EQ(name.get(), "foo");
}

// ContextVar: get() without a value or default raises LookupError naming the variable;
// get(fallback) gives the fallback; set() returns a token that reset() uses once to restore the
// previous state (value or unset).
TEST(ContextVarTest, GetSetReset) {
    Context ctx;
    ctx.run([] {
        ContextVar<int> var("var");
        try {
            (void)var.get();
            ADD_FAILURE() << "no exception";
        } catch (const LookupError& e) {
            EXPECT_STREQ(e.what(), "<ContextVar name='var'>");
        }
        EXPECT_EQ(var.get(7), 7);
        Token<int> t1 = var.set(1);
        EXPECT_EQ(t1.old_value(), std::nullopt);
        EXPECT_EQ(&t1.var(), &var);
        Token<int> t2 = var.set(2);
        EXPECT_EQ(t2.old_value(), 1);
        EXPECT_EQ(var.get(), 2);
        EXPECT_EQ(var.get(7), 2);
        var.reset(t2);
        EXPECT_EQ(var.get(), 1);
        EXPECT_THROW(var.reset(t2), RuntimeError); // used once already
        var.reset(t1);
        EXPECT_THROW((void)var.get(), LookupError);

        ContextVar<int> with_default("d", 5);
        EXPECT_EQ(with_default.get(), 5);
        EXPECT_EQ(with_default.get(9), 9);
        EXPECT_EQ(with_default.name(), "d");
    });
}

// reset() refuses a token of another variable (ValueError) or one made in another context
// (ValueError), and changes nothing then.
TEST(ContextVarTest, ResetErrors) {
    ContextVar<int> a("a");
    ContextVar<int> b("b");
    Context c1;
    Context c2;
    std::optional<Token<int>> token;
    c1.run([&] { token.emplace(a.set(1)); });
    c1.run([&] {
        try {
            b.reset(*token);
            ADD_FAILURE() << "no exception";
        } catch (const ValueError& e) {
            EXPECT_STREQ(e.what(), "<Token var=<ContextVar name='b'>> was created by a different "
                                   "ContextVar");
        }
    });
    c2.run([&] { EXPECT_THROW(a.reset(*token), ValueError); });
    EXPECT_EQ(c1.get(a), 1);
    c1.run([&] { a.reset(*token); });
    EXPECT_FALSE(c1.contains(a));
}

// Context: run() makes it current and keeps what f sets; copies share values but not later
// writes; a context already entered cannot be entered again (RuntimeError); run() gives f's
// result and lets its exception through, leaving the context.
TEST(ContextVarTest, ContextRunAndCopy) {
    ContextVar<std::string> var("var", "default");
    Context ctx;
    EXPECT_EQ(ctx.run([&] {
        var.set("in ctx");
        return var.get();
    }),
              "in ctx");
    EXPECT_EQ(var.get(), "default");
    EXPECT_EQ(ctx.get(var), "in ctx");
    Context copy = ctx.copy();
    EXPECT_FALSE(copy == ctx);
    copy.run([&] { var.set("in copy"); });
    EXPECT_EQ(ctx.get(var), "in ctx");
    EXPECT_EQ(copy.get(var), "in copy");
    Context same = ctx;
    EXPECT_TRUE(same == ctx);

    ctx.run([&] {
        EXPECT_THROW(ctx.run([] {}), RuntimeError);
        Context snapshot = copy_context();
        EXPECT_EQ(snapshot.get(var), "in ctx");
        var.set("later");
        EXPECT_EQ(snapshot.get(var), "in ctx");
    });
    EXPECT_THROW(ctx.run([] { throw ValueError("x"); }), ValueError);
    ctx.run([] {}); // not left entered by the exception
    EXPECT_EQ(ctx.get(var), "later");
}

// call_soon(cb, ctx) runs the callback in ctx itself; call_soon(cb) in a copy of the context
// current when it was scheduled (what it sets is lost afterwards). Done callbacks likewise, and
// add_done_callback(cb, ctx) uses ctx.
TEST_F(ContextTest, CallbacksAndContexts) {
    ContextVar<int> var("var", 0);
    Context ctx;
    loop->call_soon([&] { var.set(1); }, ctx);
    var.set(5); // this thread's own context
    loop->call_soon(
        [&](int add) {
            EXPECT_EQ(var.get(), 5 + add);
            var.set(99);
        },
        0);
    run_briefly();
    EXPECT_EQ(ctx.get(var), 1);
    EXPECT_EQ(var.get(), 5);

    Future<int> f = loop->create_future<int>();
    Context cbctx;
    f.add_done_callback([&] { var.set(2); }, cbctx);
    f.add_done_callback([&] { EXPECT_EQ(var.get(), 5); });
    f.set_result(1);
    run_briefly();
    EXPECT_EQ(cbctx.get(var), 2);
    EXPECT_EQ(var.get(), 5);
}

// A task runs in the context given to create_task, and get_context() gives that very context; a
// task created without one gets a copy of the creator's, which get_context() shows.
TEST_F(ContextTest, TaskGetContext) {
    ContextVar<int> var("var", 0);
    Context given;
    auto body = [&]() -> Coro<int> {
        co_await sleep(0);
        var.set(var.get() + 1);
        co_return var.get();
    };
    auto main = [&]() -> Coro<> {
        Task<int> t = create_task(body(), "named", given);
        EXPECT_TRUE(t.get_context() == given);
        EXPECT_EQ(co_await t, 1);
        EXPECT_EQ(given.get(var), 1);
        var.set(10);
        Task<int> u = create_task(body());
        Context copied = u.get_context();
        EXPECT_EQ(copied.get(var), 10);
        EXPECT_EQ(co_await u, 11);
        EXPECT_EQ(copied.get(var), 11);
        EXPECT_EQ(var.get(), 10);
    };
    run(main());
}

// The persistent map against std::map: thousands of variables set, overwritten and reset in a
// seeded random order; every older snapshot keeps its own values.
TEST(ContextVarTest, PersistentMapModel) {
    constexpr int n = 3000;
    std::vector<std::unique_ptr<ContextVar<int>>> vars;
    for (int i = 0; i < n; ++i)
        vars.push_back(std::make_unique<ContextVar<int>>(label("v", i)));
    Lcg rng{7};
    Context ctx;
    std::map<int, int> model;
    std::vector<std::pair<Context, std::map<int, int>>> snapshots;
    ctx.run([&] {
        std::vector<std::optional<Token<int>>> first(n);
        for (int step = 0; step < 40000; ++step) {
            int i = static_cast<int>(rng.next() % n);
            int action = static_cast<int>(rng.next() % 10);
            if (action < 7) {
                int value = static_cast<int>(rng.next());
                Token<int> t = vars[i]->set(value);
                if (!first[i] && !model.count(i))
                    first[i].emplace(std::move(t));
                model[i] = value;
            } else if (action < 9 && first[i]) {
                vars[i]->reset(*first[i]); // back to unset
                first[i].reset();
                model.erase(i);
            }
            if (step % 5000 == 0)
                snapshots.emplace_back(copy_context(), model);
        }
        for (int i = 0; i < n; ++i) {
            auto it = model.find(i);
            if (it == model.end())
                EXPECT_EQ(vars[i]->get(-1), -1);
            else
                EXPECT_EQ(vars[i]->get(), it->second);
        }
    });
    for (auto& [snap, expected] : snapshots)
        for (int i = 0; i < n; ++i) {
            auto it = expected.find(i);
            EXPECT_EQ(snap.get(*vars[i]),
                      it == expected.end() ? std::nullopt : std::optional<int>(it->second));
        }
}

// Isolation under load: 10,000 concurrent tasks each set the variable to their own index and
// check it across yields and timers; children they create inherit their value; nothing leaks
// into the loop's thread.
TEST_F(ContextTest, TenThousandTasksIsolated) {
    ContextVar<int> var("var", -1);
    int checked = 0;
    auto child = [&](int expect) -> Coro<> {
        co_await sleep(0);
        if (var.get() == expect)
            ++checked;
        var.set(-2);
    };
    auto worker = [&](int i) -> Coro<> {
        var.set(i);
        for (int k = 0; k < 3; ++k) {
            co_await sleep(k == 1 ? 0.001 * (i % 7) : 0);
            if (var.get() != i)
                co_return;
        }
        co_await create_task(child(i));
        if (var.get() == i)
            ++checked;
    };
    auto main = [&]() -> Coro<> {
        std::vector<Task<>> tasks;
        for (int i = 0; i < 10000; ++i)
            tasks.push_back(create_task(worker(i)));
        for (auto& t : tasks)
            co_await t;
    };
    run(main());
    EXPECT_EQ(checked, 20000);
    EXPECT_EQ(var.get(), -1);
}

} // namespace
