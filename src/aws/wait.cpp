// wait(): asyncio's _wait, with intrusive done callbacks and the timer inline.
#include "asyncio/wait.hpp"

#include <ostream>

namespace asyncio::detail {

void check_return_when(ReturnWhen when) {
    if (when != FIRST_COMPLETED && when != FIRST_EXCEPTION && when != ALL_COMPLETED)
        throw ValueError("Invalid return_when value: " + std::to_string(static_cast<int>(when)));
}

void throw_empty_wait() { throw ValueError("Set of Tasks/Futures is empty."); }

WaitCore::WaitCore(std::vector<FutureCore*> children, ReturnWhen when,
                   std::optional<double> timeout)
    : m_when(when), m_counter(children.size()), m_timeout(timeout),
      m_nodes(new Node[children.size()]), m_count(children.size()) {
    for (std::size_t i = 0; i < m_count; ++i) {
        m_nodes[i].owner = this;
        m_nodes[i].child = children[i];
        m_nodes[i].description = "_wait._on_completion()";
    }
}

WaitCore::~WaitCore() = default;

void WaitCore::begin(std::coroutine_handle<> h, TaskCore* task, PromiseBase* leaf) {
    if (!task)
        throw RuntimeError("wait() must be awaited inside a Task");
    m_task = task;
    LoopCore& loop = task->pending_loop();
    if (m_timeout) { // asyncio arms the timeout before it registers the callbacks
        when = loop.time() + *m_timeout;
        loop.add_timer(this);
    }
    m_state = State::waiting;
    for (std::size_t i = 0; i < m_count; ++i) {
        Node& n = m_nodes[i];
        if (n.child->done()) // asyncio's add_done_callback on a done future: scheduled at once
            n.on_done(*n.child);
        else
            n.child->add_node(&n);
    }
    task->suspend(h, leaf, this);
}

void WaitCore::remove_timer() noexcept {
    if (scheduled())
        m_task->link()->core->remove_timer(this);
}

void WaitCore::end() noexcept {
    if (m_state == State::ended || m_state == State::idle)
        return;
    remove_timer();
    for (std::size_t i = 0; i < m_count; ++i) {
        Node& n = m_nodes[i];
        if (n.linked())
            n.child->remove_node(&n);
    }
    if (m_state == State::waiting) // the frame is destroyed while waiting
        m_state = State::ended;
}

void WaitCore::check() {
    if (m_state == State::aborted) {
        m_state = State::ended;
        m_task->consume_cancel();
        throw CancelledError(std::move(m_message));
    }
    m_state = State::ended;
    m_task->deliver_cancel();
}

void WaitCore::release_waiter() noexcept {
    if (m_state != State::waiting)
        return;
    m_state = State::released;
    m_task->wake();
}

void WaitCore::on_completion(FutureCore& f) {
    --m_counter;
    if (m_counter == 0 || m_when == FIRST_COMPLETED ||
        (m_when == FIRST_EXCEPTION && !f.cancelled() && f.exception())) {
        if (m_state == State::waiting)
            remove_timer();
        release_waiter();
    }
}

bool WaitCore::abort(const std::string& msg) {
    if (m_state != State::waiting)
        return false; // already woken: the task delivers the cancellation at its next step
    m_state = State::aborted;
    m_message = msg;
    m_task->wake();
    return true;
}

void WaitCore::describe_wait(std::ostream& os) const {
    os << "<wait for " << m_counter << " of " << m_count << ">";
}

void WaitCore::on_timer() {
    add_ref();
    m_task->link()->core->push_ready(this);
}

void WaitCore::run() {
    release_waiter();
    release();
}

FutureCore* WaitCore::awaiting_future() const noexcept { return m_task; }

void WaitCore::on_callback(Node& n) {
    try {
        on_completion(*n.child);
    } catch (...) {
        n.child->report_callback_error(std::current_exception());
    }
}

} // namespace asyncio::detail
