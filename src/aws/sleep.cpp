// sleep(): the allocation-free timer awaiter and the bare yield.
#include "asyncio/sleep.hpp"

#include <ostream>

namespace asyncio::detail {

void throw_nan_delay() { throw ValueError("Invalid delay: NaN (not a number)"); }

void SleepAwaiter::unschedule() noexcept { m_task->pending_loop().remove_timer(this); }

void SleepAwaiter::suspend(std::coroutine_handle<> h, TaskCore* task, PromiseBase* leaf) {
    if (!task)
        throw RuntimeError("sleep() must be awaited inside a Task");
    m_task = task;
    LoopCore& loop = task->pending_loop();
    if (delay() <= 0) {
        m_state = State::yielded;
        task->wake();
    } else {
        m_state = State::armed;
        when = loop.time() + delay();
        loop.add_timer(this);
    }
    task->suspend(h, leaf, this);
}

void SleepAwaiter::on_timer() {
    m_state = State::fired;
    m_task->wake();
}

bool SleepAwaiter::abort(const std::string& msg) {
    if (m_state != State::armed)
        return false;
    m_task->pending_loop().remove_timer(this);
    m_state = State::aborted;
    m_message = msg;
    m_task->wake();
    return true;
}

void SleepAwaiter::describe_wait(std::ostream& os) const {
    if (m_state == State::armed)
        os << "<sleep until " << when << ">";
    else
        os << "<sleep(0)>";
}

} // namespace asyncio::detail
