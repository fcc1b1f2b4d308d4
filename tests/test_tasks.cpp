// Conformance cases CREATE-*, TASK-*, CURTASK-*: create_task, Task methods, current_task and
// all_tasks (see CASES.md).
// ctest-labels: thread
#include <gtest/gtest.h>

#include <algorithm>
#include <asyncio.hpp>
#include <atomic>
#include <coroutine>
#include <cstddef>
#include <future>
#include <memory>
#include <ostream>
#include <regex>
#include <set>
#include <sstream>
#include <string>
#include <thread>
#include <type_traits>
#include <vector>

#include "asyncio_test.hpp"

namespace {

using asyncio::Coro;
using asyncio::EventLoop;
using asyncio::Future;
using asyncio::FutureRef;
using asyncio::Task;
using asyncio::TaskRef;
using Log = std::vector<std::string>;

class CreateTest : public asyncio::testing::LoopTest {};
class TaskTest : public asyncio::testing::LoopTest {};
class CurrentTaskTest : public asyncio::testing::LoopTest {};

template <class T>
std::string describe(const T& x) {
    std::ostringstream os;
    os << x;
    return os.str();
}

bool contains(const std::string& s, const std::string& part) {
    return s.find(part) != std::string::npos;
}

// ---- CREATE ----

Coro<int> inner_42() { co_return 42; }
Coro<int> inner_1000() {
    co_await asyncio::sleep(0);
    co_return 1000;
}
Coro<int> outer_sum() {
    int a = co_await inner_42();
    int b = co_await inner_1000();
    co_return a + b;
}

Coro<std::string> notmuch() { co_return "ok"; }

Coro<int> inner_1() { co_return 1; }
Coro<void> noop() { co_return; }

struct CreateSeen {
    bool is_task = false;
    int awaited = 0;
    std::string name;
};

Coro<void> create_inside(CreateSeen* seen) {
    auto task = asyncio::create_task(inner_1());
    seen->is_task = std::is_same_v<decltype(task), Task<int>>;
    seen->awaited = co_await task;
    auto named = asyncio::create_task(noop(), "No-op");
    seen->name = named.get_name();
    co_await named;
}

// A foreign awaiter (only the C++ awaiter protocol, nothing of this library) that finishes at
// its first step with a value.
struct ForeignImmediate {
    int value;
    bool await_ready() const noexcept { return false; }
    bool await_suspend(std::coroutine_handle<>) const noexcept { return false; }
    int await_resume() const noexcept { return value; }
};

Coro<int> foreign_body() { co_return co_await ForeignImmediate{42}; }

Coro<int> await_future(Future<int> f) { co_return co_await f; }

Coro<void> set_later(Future<int> f, int v) {
    co_await asyncio::sleep(0.5);
    f.set_result(v);
}

Coro<Future<std::string>> returns_future(Future<std::string> f) { co_return f; }

Coro<void> sets_future(Future<std::string> f) {
    f.set_result("test");
    co_return;
}

int read_future(const Future<int>& f) { return f.result(); }

Coro<int> slow_value(int v) {
    co_await asyncio::sleep(0.1);
    co_return v;
}

// A coroutine that awaits a sub-coroutine returning 42 and one returning 1000 gives 1042.
TEST_F(CreateTest, CREATE_01) {
    EXPECT_EQ(run(outer_sum()), 1042);
    EXPECT_TRUE(reports.empty());
}

// A task made on an explicit loop runs on that loop: done, result "ok", get_loop() is that loop
// (for the fixture's loop and for a second loop).
TEST_F(CreateTest, CREATE_02) {
    auto t = loop->create_task(notmuch());
    EXPECT_FALSE(t.done());
    EXPECT_EQ(&t.get_loop(), loop.get());
    loop->run_until_complete(t);
    EXPECT_TRUE(t.done());
    EXPECT_EQ(t.result(), "ok");
    EXPECT_EQ(&t.get_loop(), loop.get());

    auto other = asyncio::new_event_loop({.debug = false, .virtual_time = true});
    auto t2 = other->create_task(notmuch());
    EXPECT_EQ(&t2.get_loop(), other.get());
    EXPECT_EQ(other->run_until_complete(t2), "ok");
    EXPECT_TRUE(t2.done());
    other->close();
}

// create_task(coro) inside a running task returns a Task whose awaited value is the
// coroutine's result; create_task(coro, "No-op") is named "No-op".
TEST_F(CreateTest, CREATE_03) {
    CreateSeen seen;
    run(create_inside(&seen));
    EXPECT_TRUE(seen.is_task);
    EXPECT_EQ(seen.awaited, 1);
    EXPECT_EQ(seen.name, "No-op");
    EXPECT_TRUE(reports.empty());
}

// (Nearest C++ form: a task body is always a Coro.) A foreign awaitable that completes at its
// first step with 42, as the whole body of a task, makes the task's result 42.
TEST_F(CreateTest, CREATE_07) {
    auto t = loop->create_task(foreign_body());
    EXPECT_EQ(loop->run_until_complete(t), 42);
    EXPECT_EQ(t.result(), 42);
}

// (No ensure_future in C++.) Wrapping in a task works on the given loop (loop.create_task) or
// on the running one, any awaitable can become a task through a coroutine, and without a
// running loop create_task throws RuntimeError.
TEST_F(CreateTest, CREATE_09) {
    try {
        (void)asyncio::create_task(inner_1());
        FAIL() << "create_task without a running loop did not throw";
    } catch (const asyncio::RuntimeError& e) {
        EXPECT_EQ(std::string(e.what()), "no running event loop");
    }

    auto t = loop->create_task(inner_1());
    EXPECT_EQ(&t.get_loop(), loop.get());
    EXPECT_EQ(loop->run_until_complete(t), 1);

    Future<int> f = loop->create_future<int>();
    auto setter = loop->create_task(set_later(f, 5));
    auto wrapped = loop->create_task(await_future(f));
    EXPECT_EQ(loop->run_until_complete(wrapped), 5);
    EXPECT_TRUE(setter.done());
    EXPECT_DOUBLE_EQ(loop->time(), 0.5);
}

// (No ensure_future in C++.) A Task converts to a Future that is that same object (no new
// wrapper), and running a task on another loop than its own throws ValueError ("... different
// loop ...").
TEST_F(CreateTest, CREATE_10) {
    auto t = loop->create_task(inner_1());
    Future<int> as_future = t;
    EXPECT_TRUE(FutureRef(as_future) == FutureRef(t));
    EXPECT_EQ(as_future.raw().core, static_cast<asyncio::detail::FutureCore*>(t.raw()));

    auto other = asyncio::new_event_loop({.debug = false, .virtual_time = true});
    try {
        other->run_until_complete(t);
        FAIL() << "running another loop's task did not throw";
    } catch (const asyncio::ValueError& e) {
        EXPECT_TRUE(contains(e.what(), "different loop")) << e.what();
    }
    EXPECT_FALSE(t.done());
    EXPECT_EQ(loop->run_until_complete(as_future), 1);
    other->close();
}

// A coroutine that returns a Future (without awaiting it) gives a task whose result is that
// very Future: its value is not substituted.
TEST_F(CreateTest, CREATE_11) {
    Future<std::string> fut = loop->create_future<std::string>();
    auto t1 = loop->create_task(returns_future(fut));
    auto t2 = loop->create_task(sets_future(fut));
    Future<std::string> res = loop->run_until_complete(t1);
    EXPECT_TRUE(res == fut);
    EXPECT_TRUE(t1.result() == fut);
    loop->run_until_complete(t2);
    EXPECT_NO_THROW(t2.result());
    EXPECT_EQ(res.result(), "test");
}

// A Task is usable wherever a Future is read: converted to Future<T> it is awaited, run to
// completion, read by a function taking a Future, and its done callbacks run with it.
TEST_F(CreateTest, CREATE_14) {
    auto t = loop->create_task(slow_value(9));
    Future<int> f = t;
    Log log;
    f.add_done_callback([&log](const Future<int>& done) {
        log.push_back("future cb " + std::to_string(done.result()));
    });
    FutureRef ref = t;
    ref.add_done_callback([&log](const FutureRef& done) {
        log.push_back(std::string("ref cb done=") + (done.done() ? "1" : "0"));
    });
    auto awaiting = loop->create_task(await_future(f));
    EXPECT_EQ(loop->run_until_complete(f), 9);
    EXPECT_EQ(read_future(t), 9);
    EXPECT_EQ(loop->run_until_complete(awaiting), 9);
    EXPECT_EQ(log, (Log{"future cb 9", "ref cb done=1"}));
    EXPECT_DOUBLE_EQ(loop->time(), 0.1);
}

// ---- TASK ----

Coro<std::string> notmuch_abc() { co_return "abc"; }

struct Dummy {
    void operator()() const {}
};

std::size_t task_number(const std::string& name) {
    EXPECT_EQ(name.rfind("Task-", 0), 0u) << name;
    return static_cast<std::size_t>(std::stoull(name.substr(5)));
}

struct SetOf6 {
    friend std::ostream& operator<<(std::ostream& os, const SetOf6&) { return os << "{6}"; }
};

Coro<std::vector<TaskRef>> return_all_tasks() { co_return asyncio::all_tasks(); }

Coro<std::size_t> take_result(Task<std::vector<TaskRef>> t) {
    std::vector<TaskRef> v = co_await std::move(t);
    co_return v.size();
}

struct StackSeen {
    std::vector<asyncio::Frame> limited;
    std::vector<asyncio::Frame> full;
    std::string printed;
};

Coro<void> stack_bar(const TaskRef* self, StackSeen* seen) {
    seen->limited = self->get_stack(1);
    seen->full = self->get_stack();
    std::ostringstream os;
    self->print_stack(1, os);
    seen->printed = os.str();
    co_return;
}

Coro<void> stack_foo(const TaskRef* self, StackSeen* seen) { co_await stack_bar(self, seen); }

Coro<int> await_self(const Task<int>* self) { co_return co_await *self; }

// A task's description shows its state (pending; cancelling after cancel() before delivery;
// cancelled; finished with its result), its name, its coroutine's name and location, and its
// registered done callbacks while pending.
TEST_F(TaskTest, TASK_01) {
    auto t = loop->create_task(notmuch_abc(), "TestTask");
    t.add_done_callback(Dummy{});
    std::string d = describe(t);
    EXPECT_EQ(d.rfind("<Task pending name='TestTask' coro=<notmuch_abc() running at ", 0), 0u) << d;
    EXPECT_TRUE(contains(d, "test_tasks.cpp:")) << d;
    EXPECT_TRUE(contains(d, "cb=[")) << d;
    EXPECT_TRUE(contains(d, "Dummy")) << d;

    t.cancel(); // does not take effect at once
    d = describe(t);
    EXPECT_EQ(d.rfind("<Task cancelling name='TestTask' coro=<notmuch_abc() running at ", 0), 0u)
        << d;
    EXPECT_TRUE(contains(d, "cb=[")) << d;
    EXPECT_TRUE(contains(d, "Dummy")) << d;

    EXPECT_THROW(loop->run_until_complete(t), asyncio::CancelledError);
    d = describe(t);
    EXPECT_EQ(d.rfind("<Task cancelled name='TestTask' coro=<notmuch_abc() done", 0), 0u) << d;
    EXPECT_TRUE(contains(d, "test_tasks.cpp:")) << d;
    EXPECT_FALSE(contains(d, "cb=[")) << d;

    auto t2 = loop->create_task(notmuch_abc(), "TestTask");
    loop->run_until_complete(t2);
    d = describe(t2);
    EXPECT_EQ(d.rfind("<Task finished name='TestTask' coro=<notmuch_abc() done", 0), 0u) << d;
    EXPECT_TRUE(std::regex_search(d, std::regex("result='?abc'?>$"))) << d;
    // The type-erased handle describes the same state, without the typed result.
    EXPECT_EQ(describe(TaskRef(t2)).rfind("<Task finished name='TestTask'", 0), 0u);
}

// Unnamed tasks get distinct names "Task-N", N strictly increasing in creation order.
TEST_F(TaskTest, TASK_02) {
    auto t1 = loop->create_task(noop());
    auto t2 = loop->create_task(noop());
    auto t3 = loop->create_task(noop());
    std::size_t n1 = task_number(t1.get_name());
    std::size_t n2 = task_number(t2.get_name());
    std::size_t n3 = task_number(t3.get_name());
    EXPECT_LT(n1, n2);
    EXPECT_LT(n2, n3);
    EXPECT_TRUE(contains(describe(t1), "name='" + t1.get_name() + "'"));
    loop->run_until_complete(t3);
    // A name stays what it was when the task finishes.
    EXPECT_EQ(task_number(t1.get_name()), n1);
}

// Numbers go on across loops run one after another, on this thread and on others (each thread
// draws numbers in blocks; a loop that stops gives back what it did not use), and never repeat
// across loops running at once.
TEST_F(TaskTest, TaskNumbersContinueAcrossLoopsAndThreads) {
    auto number_of_a_task = [] {
        asyncio::EventLoop other;
        auto t = other.create_task(noop());
        other.run_until_complete(t);
        std::size_t n = task_number(t.get_name());
        other.close();
        return n;
    };
    std::size_t first = number_of_a_task();
    std::size_t on_thread = 0;
    std::thread([&] { on_thread = number_of_a_task(); }).join();
    EXPECT_EQ(on_thread, first + 1);
    EXPECT_EQ(number_of_a_task(), first + 2);

    // Two threads whose loops run at once: distinct numbers, each thread's increasing.
    std::vector<std::size_t> a, b;
    std::promise<void> both_started;
    std::shared_future<void> go = both_started.get_future().share();
    auto make = [&go](std::vector<std::size_t>& out) {
        asyncio::EventLoop other;
        go.wait();
        other.run_until_complete(other.create_task([&]() -> Coro<> {
            for (int i = 0; i < 50; ++i)
                out.push_back(task_number(asyncio::create_task(noop()).get_name()));
            co_return;
        }));
        other.close();
    };
    std::thread ta(make, std::ref(a)), tb(make, std::ref(b));
    both_started.set_value();
    ta.join();
    tb.join();
    EXPECT_TRUE(std::is_sorted(a.begin(), a.end()));
    EXPECT_TRUE(std::is_sorted(b.begin(), b.end()));
    std::set<std::size_t> all(a.begin(), a.end());
    all.insert(b.begin(), b.end());
    EXPECT_EQ(all.size(), 100u);
}

// A name that is not a string is stored as its string form: an integer "987654321", a
// streamable value "{6}".
TEST_F(TaskTest, TASK_03) {
    auto t = loop->create_task(noop(), "first");
    t.set_name(SetOf6{});
    EXPECT_EQ(t.get_name(), "{6}");
    t.set_name(987654321);
    EXPECT_EQ(t.get_name(), "987654321");
    t.set_name(123456789LL);
    EXPECT_EQ(t.get_name(), "123456789");
    EXPECT_TRUE(contains(describe(t), "name='123456789'"));
    loop->run_until_complete(t);
}

// A task whose result contains itself (the all_tasks() it returned) can still be described,
// with no infinite recursion.
TEST_F(TaskTest, TASK_05) {
    auto t = loop->create_task(return_all_tasks());
    loop->run_until_complete(t);
    ASSERT_EQ(t.result().size(), 1u);
    EXPECT_TRUE(t.result()[0] == t);
    std::string d = describe(t);
    EXPECT_EQ(d.rfind("<Task finished name='" + t.get_name() + "'", 0), 0u) << d;
    EXPECT_TRUE(contains(d, "result=")) << d;
    EXPECT_EQ(d.back(), '>');
    // Moving the result out breaks the task -> result -> task cycle.
    EXPECT_EQ(run(take_result(t)), 1u);
}

// From inside the running task, even in a nested coroutine, get_stack(limit=1) gives the task's
// top-level coroutine frame (foo), and print_stack(limit=1) prints "foo() running".
TEST_F(TaskTest, TASK_06) {
    StackSeen seen;
    TaskRef self;
    auto t = loop->create_task(stack_foo(&self, &seen));
    self = t;
    loop->run_until_complete(t);
    ASSERT_EQ(seen.limited.size(), 1u);
    EXPECT_EQ(seen.limited[0].name, "stack_foo");
    EXPECT_TRUE(contains(seen.limited[0].filename, "test_tasks.cpp"));
    ASSERT_EQ(seen.full.size(), 2u);
    EXPECT_EQ(seen.full[0].name, "stack_foo");
    EXPECT_EQ(seen.full[1].name, "stack_bar");
    EXPECT_TRUE(contains(seen.printed, "stack_foo() running")) << seen.printed;
    EXPECT_TRUE(contains(seen.printed, "in stack_foo\n")) << seen.printed;
    EXPECT_FALSE(contains(seen.printed, "in stack_bar")) << seen.printed;
}

// get_coro() is the very coroutine the task was made with. (C++: the frame is freed when the
// task finishes, so get_coro() is then empty; get_context() belongs to the CTX group.)
TEST_F(TaskTest, TASK_07) {
    auto c = slow_value(3);
    void* address = c.address();
    ASSERT_NE(address, nullptr);
    auto t = loop->create_task(std::move(c));
    EXPECT_EQ(t.get_coro().address(), address);
    run_briefly();
    EXPECT_FALSE(t.done());
    EXPECT_EQ(t.get_coro().address(), address);
    EXPECT_EQ(loop->run_until_complete(t), 3);
    EXPECT_FALSE(t.get_coro());
}

// (Nearest C++ form.) A result or exception cannot be forced onto a task through its Future
// view: RuntimeError, and the task goes on to its own outcome with nothing reported.
TEST_F(TaskTest, TASK_09) {
    auto t = loop->create_task(slow_value(7));
    Future<int> f = t;
    try {
        f.set_result(3);
        FAIL() << "set_result on a task did not throw";
    } catch (const asyncio::RuntimeError& e) {
        EXPECT_EQ(std::string(e.what()),
                  "Task does not support set_result/set_exception operation");
    }
    try {
        f.set_exception(std::make_exception_ptr(asyncio::ValueError("forced")));
        FAIL() << "set_exception on a task did not throw";
    } catch (const asyncio::RuntimeError& e) {
        EXPECT_EQ(std::string(e.what()),
                  "Task does not support set_result/set_exception operation");
    }
    EXPECT_FALSE(t.done());
    EXPECT_EQ(loop->run_until_complete(t), 7);
    EXPECT_EQ(f.result(), 7);
    EXPECT_TRUE(reports.empty());
}

// A task that awaits itself fails with RuntimeError("Task cannot await on itself").
TEST_F(TaskTest, TASK_10) {
    Task<int> t;
    t = loop->create_task(await_self(&t));
    try {
        loop->run_until_complete(t);
        FAIL() << "awaiting itself did not throw";
    } catch (const asyncio::RuntimeError& e) {
        EXPECT_EQ(std::string(e.what()), "Task cannot await on itself");
    }
    EXPECT_TRUE(t.done());
    EXPECT_FALSE(t.cancelled());
    EXPECT_TRUE(asyncio::testing::holds<asyncio::RuntimeError>(t.exception()));
}

// Awaiting a future of another loop fails the task with RuntimeError ("... attached to a
// different loop"); the future is left alone.
TEST_F(TaskTest, TASK_11) {
    auto other = asyncio::new_event_loop({.debug = false, .virtual_time = true});
    Future<int> fut = other->create_future<int>();
    auto t = loop->create_task(await_future(fut));
    try {
        loop->run_until_complete(t);
        FAIL() << "awaiting another loop's future did not throw";
    } catch (const asyncio::RuntimeError& e) {
        EXPECT_TRUE(contains(e.what(), "attached to a different loop")) << e.what();
    }
    EXPECT_TRUE(t.done());
    EXPECT_FALSE(fut.done());
    other->close();
}

// ---- CURTASK ----

std::string current_name() {
    TaskRef t = asyncio::current_task();
    return t ? t.get_name() : std::string("none");
}

Coro<void> check_current(const TaskRef* self, Log* log) {
    log->push_back(std::string("start self=") + (asyncio::current_task() == *self ? "1" : "0"));
    asyncio::get_running_loop().call_soon(
        [log] { log->push_back("callback sees " + current_name()); });
    co_await asyncio::sleep(0);
    log->push_back(std::string("resumed self=") + (asyncio::current_task() == *self ? "1" : "0"));
}

Coro<void> interleave_1(const TaskRef* self, Future<bool> fut1, Future<bool> fut2, Log* log) {
    log->push_back(std::string("1 before ") + (asyncio::current_task() == *self ? "ok" : "bad"));
    co_await fut1;
    log->push_back(std::string("1 after ") + (asyncio::current_task() == *self ? "ok" : "bad"));
    fut2.set_result(true);
}

Coro<void> interleave_2(const TaskRef* self, Future<bool> fut1, Future<bool> fut2, Log* log) {
    log->push_back(std::string("2 before ") + (asyncio::current_task() == *self ? "ok" : "bad"));
    fut1.set_result(true);
    co_await fut2;
    log->push_back(std::string("2 after ") + (asyncio::current_task() == *self ? "ok" : "bad"));
}

Coro<void> fails_at_once() {
    throw std::runtime_error("boom");
    co_return;
}

Coro<void> catches_nested(Log* log) {
    try {
        co_await fails_at_once();
    } catch (const std::runtime_error&) {
        log->push_back("caught, current=" + current_name());
    }
    co_await asyncio::sleep(0);
    log->push_back("resumed, current=" + current_name());
}

Coro<void> sleep_long() { co_await asyncio::sleep(10); }

// all_tasks() as identities: a task whose result held handles to itself would keep itself alive.
using Ids = std::vector<TaskRef::Raw>;

Ids ids(const std::vector<TaskRef>& tasks) {
    Ids out;
    for (const TaskRef& t : tasks)
        out.push_back(t.raw());
    return out;
}

Coro<Ids> tasks_after_yields() {
    co_await asyncio::sleep(0);
    co_await asyncio::sleep(0);
    co_return ids(asyncio::all_tasks());
}

Coro<Ids> tasks_now() { co_return ids(asyncio::all_tasks()); }

struct GroupSeen {
    std::size_t count = 0;
    bool all_on_loop = true;
    bool all_pending = true;
    bool current_included = false;
    bool children_included = true;
    std::size_t finished_children = 0;
};

Coro<void> wait_on(Future<void> f) { co_await f; }

Coro<GroupSeen> group_main() {
    EventLoop& loop = asyncio::get_running_loop();
    Future<void> future = loop.create_future<void>();
    std::vector<Task<void>> children;
    for (int i = 0; i < 100; ++i)
        children.push_back(asyncio::create_task(wait_on(future)));
    GroupSeen seen;
    std::vector<TaskRef> all = asyncio::all_tasks();
    seen.count = all.size();
    std::set<TaskRef::Raw> raws;
    for (const TaskRef& t : all) {
        raws.insert(t.raw());
        seen.all_on_loop = seen.all_on_loop && &t.get_loop() == &loop;
        seen.all_pending = seen.all_pending && !t.done();
    }
    seen.current_included = raws.count(asyncio::current_task().raw()) == 1;
    for (const auto& c : children)
        seen.children_included = seen.children_included && raws.count(c.raw()) == 1;
    future.set_result();
    for (auto& c : children) {
        co_await c;
        ++seen.finished_children;
    }
    co_return seen;
}

struct Producer {
    std::promise<EventLoop*> started;
    std::atomic<int> acknowledged{0};
    int expected_acks = 0;
    std::vector<TaskRef> created; // touched on the loop's thread only
};

Coro<void> wait_forever(Future<void> f) { co_await f; }

Coro<std::size_t> produce(Producer* p) {
    EventLoop& loop = asyncio::get_running_loop();
    Future<void> never = loop.create_future<void>();
    p->started.set_value(&loop);
    while (p->acknowledged.load() < p->expected_acks) {
        if (p->created.size() < 1000)
            p->created.push_back(asyncio::create_task(wait_forever(never)));
        co_await asyncio::sleep(0);
    }
    co_return p->created.size();
}

struct Query {
    bool includes_all_created = false;
    bool size_matches = false;
    std::size_t created = 0;
};

// Outside any task current_task() is empty; inside a task it is that task, before and after
// a suspension; a callback the task scheduled sees none again.
TEST_F(CurrentTaskTest, CURTASK_01) {
    Log log;
    loop->call_soon([&log] { log.push_back("before sees " + current_name()); });
    TaskRef self;
    auto t = loop->create_task(check_current(&self, &log), "T");
    self = t;
    loop->run_until_complete(t);
    loop->call_soon([&log] { log.push_back("after sees " + current_name()); });
    run_briefly();
    EXPECT_EQ(log, (Log{"before sees none", "start self=1", "callback sees none", "resumed self=1",
                        "after sees none"}));
}

// Two tasks taking turns suspending on futures each see themselves as current_task() before
// and after every suspension; afterwards there is none.
TEST_F(CurrentTaskTest, CURTASK_02) {
    Future<bool> fut1 = loop->create_future<bool>();
    Future<bool> fut2 = loop->create_future<bool>();
    Log log;
    TaskRef self1, self2;
    auto t1 = loop->create_task(interleave_1(&self1, fut1, fut2, &log));
    auto t2 = loop->create_task(interleave_2(&self2, fut1, fut2, &log));
    self1 = t1;
    self2 = t2;
    loop->run_until_complete(t1);
    loop->run_until_complete(t2);
    EXPECT_EQ(log, (Log{"1 before ok", "2 before ok", "1 after ok", "2 after ok"}));
    loop->call_soon([&log] { log.push_back("then " + current_name()); });
    run_briefly();
    EXPECT_EQ(log.back(), "then none");
}

// With no running loop (even with a loop that exists but does not run), current_task() and
// all_tasks() throw RuntimeError("no running event loop").
TEST_F(CurrentTaskTest, CURTASK_03) {
    for (int i = 0; i < 2; ++i) {
        try {
            (void)asyncio::current_task();
            FAIL() << "current_task() without a running loop did not throw";
        } catch (const asyncio::RuntimeError& e) {
            EXPECT_EQ(std::string(e.what()), "no running event loop");
        }
        try {
            (void)asyncio::all_tasks();
            FAIL() << "all_tasks() without a running loop did not throw";
        } catch (const asyncio::RuntimeError& e) {
            EXPECT_EQ(std::string(e.what()), "no running event loop");
        }
        run(noop()); // and again after the loop ran
    }
}

// (Nearest C++ form of the enter/leave invariant.) After each task step, whether the task
// suspended, finished or failed, the current task is cleared; a caught failure inside a task
// leaves that task current.
TEST_F(CurrentTaskTest, CURTASK_05) {
    Log log;
    auto failing = loop->create_task(fails_at_once());
    loop->call_soon([&log] { log.push_back("after failing step: " + current_name()); });
    auto t = loop->create_task(catches_nested(&log), "C");
    loop->call_soon([&log] { log.push_back("after suspending step: " + current_name()); });
    loop->run_until_complete(t);
    loop->call_soon([&log] { log.push_back("after finishing step: " + current_name()); });
    run_briefly();
    EXPECT_EQ(log,
              (Log{"after failing step: none", "caught, current=C", "after suspending step: none",
                   "resumed, current=C", "after finishing step: none"}));
    EXPECT_TRUE(failing.done());
    EXPECT_TRUE(asyncio::testing::holds<std::runtime_error>(failing.exception()));
}

// all_tasks() leaves out tasks that are done (finished or cancelled), even while handles to
// them are held.
TEST_F(CurrentTaskTest, CURTASK_06) {
    auto quick = loop->create_task(noop());
    auto slow = loop->create_task(sleep_long());
    auto cancelled = loop->create_task(sleep_long());
    cancelled.cancel();
    auto observer = loop->create_task(tasks_after_yields());
    Ids seen = loop->run_until_complete(observer);
    EXPECT_TRUE(quick.done());
    EXPECT_TRUE(cancelled.cancelled());
    EXPECT_FALSE(slow.done());
    EXPECT_EQ(seen, (Ids{slow.raw(), observer.raw()}));
    slow.cancel();
    EXPECT_THROW(loop->run_until_complete(slow), asyncio::CancelledError);
}

// A pending task appears in all_tasks() only on its own loop, and no longer once it is done.
TEST_F(CurrentTaskTest, CURTASK_07) {
    auto other = asyncio::new_event_loop({.debug = false, .virtual_time = true});
    auto on_other = other->create_task(sleep_long());
    auto on_this = loop->create_task(sleep_long());

    auto here = loop->create_task(tasks_now());
    EXPECT_EQ(loop->run_until_complete(here), (Ids{on_this.raw(), here.raw()}));

    auto there = other->create_task(tasks_now());
    EXPECT_EQ(other->run_until_complete(there), (Ids{on_other.raw(), there.raw()}));

    other->run_until_complete(on_other);
    auto there_after = other->create_task(tasks_now());
    EXPECT_EQ(other->run_until_complete(there_after), (Ids{there_after.raw()}));
    other->close();

    on_this.cancel();
    EXPECT_THROW(loop->run_until_complete(on_this), asyncio::CancelledError);
    auto here_after = loop->create_task(tasks_now());
    EXPECT_EQ(loop->run_until_complete(here_after), (Ids{here_after.raw()}));
}

// With 100 pending children, all_tasks() gives exactly 101 pending tasks of the loop (the
// children and the current task), while ten threads each run their own loop at once.
TEST(CurrentTaskThreads, CURTASK_09) {
    constexpr int threads = 10;
    std::vector<GroupSeen> seen(threads);
    std::vector<std::thread> pool;
    for (int i = 0; i < threads; ++i)
        pool.emplace_back([&seen, i] {
            seen[static_cast<std::size_t>(i)] =
                asyncio::run(group_main(), {.debug = false, .virtual_time = true});
        });
    for (auto& th : pool)
        th.join();
    for (int i = 0; i < threads; ++i) {
        SCOPED_TRACE("thread " + std::to_string(i));
        const GroupSeen& s = seen[static_cast<std::size_t>(i)];
        EXPECT_EQ(s.count, 101u);
        EXPECT_TRUE(s.all_on_loop);
        EXPECT_TRUE(s.all_pending);
        EXPECT_TRUE(s.current_included);
        EXPECT_TRUE(s.children_included);
        EXPECT_EQ(s.finished_children, 100u);
    }
}

// (The loop is not thread-safe, so other threads ask through call_soon_threadsafe.) Queries of
// all_tasks() sent from other threads while the loop thread keeps creating tasks each see
// every task created so far (plus the creating task itself).
TEST(CurrentTaskThreads, CURTASK_10) {
    constexpr int checkers = 4;
    constexpr int queries_each = 25;
    Producer p;
    p.expected_acks = checkers * queries_each;
    std::future<EventLoop*> started = p.started.get_future();
    std::size_t produced = 0;
    std::thread loop_thread([&p, &produced] {
        produced = asyncio::run(produce(&p), {.debug = false, .virtual_time = true});
    });
    EventLoop* loop = started.get();

    std::vector<std::vector<Query>> results(checkers, std::vector<Query>(queries_each));
    std::vector<std::thread> pool;
    for (int c = 0; c < checkers; ++c)
        pool.emplace_back([&p, &results, loop, c] {
            for (int q = 0; q < queries_each; ++q) {
                Query* slot = &results[static_cast<std::size_t>(c)][static_cast<std::size_t>(q)];
                std::promise<void> answered;
                std::future<void> answer = answered.get_future();
                loop->call_soon_threadsafe([&p, slot, &answered] {
                    std::vector<TaskRef> all = asyncio::all_tasks();
                    std::set<TaskRef::Raw> raws;
                    for (const TaskRef& t : all)
                        raws.insert(t.raw());
                    slot->created = p.created.size();
                    slot->includes_all_created =
                        std::all_of(p.created.begin(), p.created.end(),
                                    [&raws](const TaskRef& t) { return raws.count(t.raw()) == 1; });
                    slot->size_matches = all.size() == p.created.size() + 1;
                    answered.set_value();
                });
                answer.wait();
                p.acknowledged.fetch_add(1);
            }
        });
    for (auto& th : pool)
        th.join();
    loop_thread.join();

    EXPECT_GE(produced, 1u);
    EXPECT_LE(produced, 1000u);
    for (int c = 0; c < checkers; ++c)
        for (int q = 0; q < queries_each; ++q) {
            const Query& r = results[static_cast<std::size_t>(c)][static_cast<std::size_t>(q)];
            SCOPED_TRACE("checker " + std::to_string(c) + " query " + std::to_string(q));
            EXPECT_TRUE(r.includes_all_created);
            EXPECT_TRUE(r.size_matches);
        }
}

} // namespace
