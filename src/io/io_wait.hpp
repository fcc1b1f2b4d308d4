// Internal: IoWait, the awaiter the io layer suspends a task on until an I/O event wakes it.
#pragma once

#include <coroutine>
#include <string>

#include "asyncio/detail/base/intrusive_list.hpp"
#include "asyncio/detail/task/future_wait.hpp"
#include "asyncio/detail/task/task_core.hpp"
#include "asyncio/exceptions.hpp"

namespace asyncio::detail {

struct IoWaitTag;
class IoWait;
using IoWaitList = IntrusiveList<IoWait, IoWaitTag>;

// Lives in the awaiting coroutine's frame and sits on the list of what it waits for (a reader's
// data, a writer's drain, a server's closing) while suspended. The event side calls wake() (or
// wake_all() on the list); the task's cancel() aborts the wait: it leaves the list and the
// co_await throws CancelledError, with nothing else undone (the caller's state is as it was
// before the wait, which is what keeps a cancelled readline()'s partial line in the buffer).
class IoWait final : public Waiter, public ListHook<IoWaitTag> {
public:
    IoWait(IoWaitList& list, const char* what) noexcept : m_list(list), m_what(what) {}
    IoWait(const IoWait&) = delete;
    IoWait& operator=(const IoWait&) = delete;
    ~IoWait() {
        if (linked())
            m_list.remove(this);
    }

    bool await_ready() const noexcept { return false; }
    template <class P>
    void await_suspend(std::coroutine_handle<P> h) {
        TaskCore* task = task_of(h);
        if (!task)
            throw RuntimeError(std::string(m_what) + " must be awaited inside a Task");
        m_task = task;
        m_state = State::armed;
        m_list.push_back(this);
        task->suspend(h, promise_of(h), this);
    }
    void await_resume() {
        if (m_state == State::aborted) {
            m_task->consume_cancel();
            throw CancelledError(m_message);
        }
        m_task->deliver_cancel();
    }

    void wake() noexcept {
        if (m_state != State::armed)
            return;
        m_list.remove(this);
        m_state = State::fired;
        m_task->wake();
    }
    static void wake_all(IoWaitList& list) noexcept {
        while (IoWait* w = list.front())
            w->wake();
    }

    bool abort(const std::string& msg) override {
        if (m_state != State::armed)
            return false;
        m_list.remove(this);
        m_state = State::aborted;
        m_message = msg;
        m_task->wake();
        return true;
    }
    void describe_wait(std::ostream& os) const override { os << "<" << m_what << ">"; }

private:
    enum class State : unsigned char { idle, armed, fired, aborted };
    IoWaitList& m_list;
    const char* m_what;
    TaskCore* m_task = nullptr;
    State m_state = State::idle;
    std::string m_message;
};

} // namespace asyncio::detail
