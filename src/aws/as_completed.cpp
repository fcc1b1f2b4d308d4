// as_completed(): asyncio's _AsCompletedIterator, its queue of finished children on a WaiterQueue.
#include "asyncio/as_completed.hpp"

#include <ostream>

namespace asyncio::detail {

AsCompletedCore::AsCompletedCore(std::vector<FutureCore*> children)
    : m_cores(std::move(children)), m_nodes(new Node[m_cores.size()]), m_todo(m_cores.size(), true),
      m_todo_count(m_cores.size()), m_left(m_cores.size()) {}

void AsCompletedCore::start(LoopCore* loop, std::optional<double> timeout) {
    if (m_cores.empty())
        return;
    m_link = loop->link();
    m_link->add_ref();
    for (std::size_t i = 0; i < m_cores.size(); ++i) {
        Node& n = m_nodes[i];
        n.owner = this;
        n.child = m_cores[i];
        n.index = i;
        n.description = "_AsCompletedIterator._handle_completion()";
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
    m_getters.unpark_one();
}

void AsCompletedCore::pass_on(void* self) noexcept {
    // A getter woken for an item it will not take (asyncio's Queue.get).
    auto* core = static_cast<AsCompletedCore*>(self);
    if (!core->empty())
        core->m_getters.unpark_one();
}

} // namespace asyncio::detail
