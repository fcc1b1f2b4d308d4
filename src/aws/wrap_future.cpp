// wrap_future(): the two-way link between a ConcurrentFuture and a loop Future.
#include "asyncio/wrap_future.hpp"

namespace asyncio::detail {

// On the source: when it completes (in whatever thread), posts the link to the loop, unless the
// loop is closed.
class FutureLink::Relay final : public ConcurrentCallback {
public:
    explicit Relay(FutureLink* link) noexcept : m_link(link) {}
    void invoke(ConcurrentCore&) noexcept override {
        m_link->add_ref(); // the inbox's
        if (!m_link->m_inbox->post(m_link.get()))
            m_link->release();
    }

private:
    IntrusivePtr<FutureLink> m_link;
};

FutureLink::FutureLink(LoopCore& loop, ConcurrentCore* source, FutureCore& dest)
    : m_source(source), m_dest(&dest), m_loop(&loop), m_inbox(&loop.inbox()) {
    m_cancel.self = this;
}

void FutureLink::untrack() noexcept {
    if (tracked()) // else the loop may be gone
        m_loop->untrack(this);
}

void FutureLink::start() {
    IntrusivePtr<FutureLink> hold(this);
    add_ref(); // the registration's
    m_dest->add_node(this);
    m_loop->track(this);
    m_source->add_callback(new Relay(this)); // may post at once, if the source is done
}

void FutureLink::run() {
    if (IntrusivePtr<FutureCore> dest = std::move(m_dest)) { // on_done() sees it delivered
        untrack();
        try {
            switch (m_source->state()) {
            case ConcurrentCore::State::cancelled:
                dest->cancel("");
                break;
            default:
                if (std::exception_ptr e = m_source->get_exception(0.0))
                    dest->set_exception(e);
                else {
                    store_value();
                    dest->set_finished();
                }
            }
        } catch (...) { // copying the value threw
            if (!dest->done())
                dest->set_exception(std::current_exception());
        }
    }
    release(); // the inbox's
}

void FutureLink::on_done(FutureCore& f) noexcept {
    if (m_dest) { // done by someone else
        untrack();
        m_dest.reset();      // whoever completed it holds it too
        if (f.cancelled()) { // cancel the source from a callback of its own: its callbacks are
            f.schedule(&m_cancel); // user code; this takes over the registration's reference
            return;
        }
    }
    release(); // the registration's
}

void FutureLink::CancelSource::run() {
    self->m_source->cancel();
    self->release();
}

} // namespace asyncio::detail
