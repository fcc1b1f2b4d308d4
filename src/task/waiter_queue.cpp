// WaiterQueue: parking, unparking, and the cancellation rules of a parked task.
#include "asyncio/detail/task/waiter_queue.hpp"

#include <ostream>

#include "asyncio/exceptions.hpp"

namespace asyncio::detail {

LoopBinding::~LoopBinding() {
    if (m_link)
        m_link->release();
}

void LoopBinding::check(const TaskCore& task, const char* kind) {
    LoopLink* link = task.link();
    if (m_link == link) [[likely]]
        return;
    if (m_link)
        throw RuntimeError(std::string(kind) + " is bound to a different event loop");
    m_link = link;
    m_link->add_ref();
}

void WaiterQueue::List::push_back(Park* p) noexcept {
    p->m_prev = tail;
    p->m_next = nullptr;
    (tail ? tail->m_next : head) = p;
    tail = p;
    ++count;
}

void WaiterQueue::List::remove(Park* p) noexcept {
    (p->m_prev ? p->m_prev->m_next : head) = p->m_next;
    (p->m_next ? p->m_next->m_prev : tail) = p->m_prev;
    p->m_prev = p->m_next = nullptr;
    --count;
}

WaiterQueue::~WaiterQueue() {
    for (List* l : {&m_parked, &m_woken}) {
        while (Park* p = l->head) {
            l->remove(p);
            p->m_queue = nullptr;
        }
    }
}

bool WaiterQueue::unpark_one() noexcept {
    Park* p = m_parked.head;
    if (!p)
        return false;
    m_parked.remove(p);
    m_woken.push_back(p);
    p->m_state = Park::State::woken;
    p->m_task->wake();
    return true;
}

std::size_t WaiterQueue::unpark(std::size_t n) noexcept {
    std::size_t done = 0;
    while (done < n && unpark_one())
        ++done;
    return done;
}

void WaiterQueue::Park::suspend(std::coroutine_handle<> h, TaskCore* task, PromiseBase* leaf) {
    if (!task)
        throw RuntimeError(std::string(m_what) + " must be awaited inside a Task");
    m_queue->m_binding->check(*task, m_queue->m_kind);
    m_task = task;
    m_state = State::parked;
    m_queue->m_parked.push_back(this);
    task->suspend(h, leaf, this); // may call abort() at once, for a pending cancellation
}

bool WaiterQueue::Park::abort(const std::string& msg) {
    if (m_state != State::parked)
        return false; // woken already: the task delivers the cancellation when it runs
    if (m_queue)
        m_queue->m_parked.remove(this);
    m_state = State::aborted;
    m_message = msg;
    m_task->wake();
    return true;
}

void WaiterQueue::Park::throw_aborted() {
    // Only an aborted Park resumes without being woken: its own cancellation is the one thrown.
    m_state = State::idle;
    m_task->consume_cancel();
    throw CancelledError(m_message.get());
}

void WaiterQueue::Park::take_cancel() {
    try {
        m_task->deliver_cancel();
    } catch (...) {
        // Woken for something it will not take: the owner passes the wake-up on.
        if (m_queue && m_queue->m_pass_on)
            m_queue->m_pass_on(m_queue->m_owner);
        throw;
    }
}

void WaiterQueue::Park::leave_on_destroy() noexcept {
    // The frame is destroyed while parked or woken (its task was destroyed pending).
    if (!m_queue)
        return;
    if (m_state == State::parked) {
        m_queue->m_parked.remove(this);
    } else {
        m_queue->m_woken.remove(this);
        if (m_queue->m_pass_on)
            m_queue->m_pass_on(m_queue->m_owner);
    }
}

void WaiterQueue::Park::describe_wait(std::ostream& os) const { os << "<" << m_what << ">"; }

} // namespace asyncio::detail
