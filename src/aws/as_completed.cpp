// as_completed(): asyncio's _AsCompletedIterator and the Queue.get its awaitables use.
#include "asyncio/as_completed.hpp"

#include <ostream>

namespace asyncio::detail {

AsCompletedCore::AsCompletedCore(LoopCore* loop, std::vector<FutureCore*> children,
                                 std::optional<double> timeout)
    : m_cores(std::move(children)), m_nodes(new Node[m_cores.size()]), m_todo(m_cores.size(), true),
      m_todo_count(m_cores.size()), m_left(m_cores.size()) {
    if (m_cores.empty())
        return;
    m_link = loop->link();
    m_link->add_ref();
    ++m_refs; // a callback discarded at once (closed loop) must not free this half-built state
    for (std::size_t i = 0; i < m_cores.size(); ++i) {
        Node& n = m_nodes[i];
        n.owner = this;
        n.index = i;
        FutureCore& child = *m_cores[i];
        if (child.done()) // asyncio's add_done_callback on a done future: scheduled at once
            n.on_done(child);
        else
            child.add_node(&n);
    }
    if (timeout) {
        when = loop->time() + *timeout;
        loop->add_timer(this);
    }
    --m_refs;
}

AsCompletedCore::~AsCompletedCore() {
    for (std::size_t i = 0; i < m_cores.size(); ++i)
        if (m_nodes[i].linked())
            m_cores[i]->remove_node(&m_nodes[i]);
    if (m_link) {
        if (scheduled() && m_link->core)
            m_link->core->remove_timer(this);
        m_link->release();
    }
}

void AsCompletedCore::on_timer() {
    add_ref();
    if (LoopCore* loop = m_link->core; loop && !loop->is_closed())
        loop->push_ready(this);
    else
        release();
}

void AsCompletedCore::run() {
    handle_timeout();
    release();
}

void AsCompletedCore::handle_timeout() {
    for (std::size_t i = 0; i < m_cores.size(); ++i) {
        if (!m_todo[i])
            continue;
        m_todo[i] = false;
        if (m_nodes[i].linked())
            m_cores[i]->remove_node(&m_nodes[i]);
        put(npos);
    }
    m_todo_count = 0;
}

void AsCompletedCore::handle_completion(std::size_t i) {
    if (m_todo_count == 0)
        return; // the timeout was here first
    m_todo[i] = false;
    --m_todo_count;
    put(i);
    if (m_todo_count == 0 && scheduled())
        m_link->core->remove_timer(this);
}

void AsCompletedCore::put(std::size_t i) {
    m_done.push_back(i);
    wakeup_next();
}

void AsCompletedCore::wakeup_next() noexcept {
    if (Get* g = m_getters_head) {
        unlink(g);
        g->m_state = Get::State::woken;
        g->m_task->wake();
    }
}

void AsCompletedCore::unlink(Get* g) noexcept {
    (g->m_prev ? g->m_prev->m_next : m_getters_head) = g->m_next;
    (g->m_next ? g->m_next->m_prev : m_getters_tail) = g->m_prev;
    g->m_prev = g->m_next = nullptr;
}

void AsCompletedCore::Node::on_done(FutureCore& f) noexcept {
    owner->add_ref();
    f.schedule(this);
}

void AsCompletedCore::Node::describe_callback(std::ostream& os) const {
    os << "_AsCompletedIterator._handle_completion()";
}

void AsCompletedCore::Node::run() {
    AsCompletedCore* o = owner;
    o->handle_completion(index);
    o->release(); // may destroy the owner and this node
}

AsCompletedCore::Get::~Get() {
    if (m_state == State::waiting) // the frame is destroyed while waiting
        m_core->unlink(this);
}

void AsCompletedCore::Get::suspend(std::coroutine_handle<> h, TaskCore* task, PromiseBase* leaf) {
    if (!task)
        throw RuntimeError("as_completed()'s awaitables must be awaited inside a Task");
    m_task = task;
    m_state = State::waiting;
    m_prev = m_core->m_getters_tail;
    (m_prev ? m_prev->m_next : m_core->m_getters_head) = this;
    m_core->m_getters_tail = this;
    task->suspend(h, leaf, this);
}

bool AsCompletedCore::Get::abort(const std::string& msg) {
    if (m_state != State::waiting)
        return false; // woken already: the task delivers the cancellation at its next step
    m_core->unlink(this);
    m_state = State::aborted;
    m_message = msg;
    m_task->wake();
    return true;
}

void AsCompletedCore::Get::await_resume() {
    if (m_state == State::aborted) {
        m_task->consume_cancel();
        throw CancelledError(std::move(m_message));
    }
    try {
        m_task->deliver_cancel();
    } catch (...) {
        // Woken for an item it will not take: pass the wake-up on (asyncio's Queue.get).
        if (!m_core->empty())
            m_core->wakeup_next();
        throw;
    }
}

void AsCompletedCore::Get::describe_wait(std::ostream& os) const {
    os << "<as_completed queue get>";
}

} // namespace asyncio::detail
