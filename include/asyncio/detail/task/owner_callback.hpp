// Internal: OwnerCallback, the one shape of the combinators' done callbacks (gather, shield, wait,
// as_completed).
#pragma once

#include <cstddef>
#include <ostream>
#include <type_traits>
#include <utility>

#include "../base/runnable.hpp"
#include "future_core.hpp"

namespace asyncio::detail {

// A done callback that calls its owner back from the ready queue. Registered on `child`, it is
// called when the child completes and queues itself (asyncio runs done callbacks through
// call_soon), holding a reference on the child and on the owner; when it runs it calls
// `owner->on_callback(*this)`, then lets both go; a closed loop discards it instead.
//
// `HeldWhileRegistered`: the owner takes a reference for the node when it registers it (a gather
// or a shield nobody holds must still complete), which the queued node then stands for, and the
// node hands it back when its pending child is destroyed under it: such a child can never
// complete. Otherwise the node holds the owner only from the completion on (the owner keeps its
// children alive, or unregisters what is left in its destructor). Either way a child destroyed
// under the registration is forgotten (`child` becomes null), after the owner heard of it
// through `on_child_gone(*this)` if it has that member.
//
// The owner's on_callback handles what it throws, and may destroy the node (run() touches it no
// more); Owner provides add_ref() and release().
template <class Owner, bool HeldWhileRegistered>
class OwnerCallback : public CallbackNode, public Runnable {
public:
    Owner* owner = nullptr;
    FutureCore* child = nullptr; // registered on; null once a held-while-registered child went
    std::size_t index = 0;       // the owner's number for it
    const char* description = "<callback>"; // asyncio's name, for the future's description

    void on_done(FutureCore& f) noexcept override {
        f.add_ref();
        if constexpr (!HeldWhileRegistered)
            owner->add_ref();
        f.schedule(this);
    }
    void dispose() noexcept override {
        if constexpr (requires(Owner & o) { o.on_child_gone(*this); })
            owner->on_child_gone(*this);
        child = nullptr;
        if constexpr (HeldWhileRegistered)
            owner->release();
    }
    void describe_callback(std::ostream& os) const override { os << description; }
    // The owner when it is a future itself (gather, shield), else whom it names.
    FutureCore* awaiting_future() const noexcept override {
        if constexpr (std::is_base_of_v<FutureCore, Owner>)
            return owner;
        else
            return owner->awaiting_future();
    }
    void run() override {
        Owner* o = owner;
        FutureCore* f = child;
        o->on_callback(*this); // may destroy this node
        f->release();
        o->release(); // may destroy the owner and this node
    }
    void discard() noexcept override {
        Owner* o = owner;
        child->release();
        o->release();
    }
};

} // namespace asyncio::detail
