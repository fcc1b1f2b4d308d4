// Internal: the machinery of context variables: the persistent map of values, the mutable context
// that holds one, and the thread's current context.
#pragma once

#include <atomic>
#include <cstdint>
#include <utility>

#include "../base/intrusive.hpp"

namespace asyncio::detail {

// One value of a ContextVar, shared by every version of every map that holds it. Immutable once
// made, so threads may read it concurrently; the reference count is atomic because contexts are
// copied into worker threads.
class ValueBase : public AtomicRefCounted<ValueBase> {
public:
    ValueBase() = default;

protected:
    friend class AtomicRefCounted<ValueBase>; // deletes it
    virtual ~ValueBase() = default;
};

template <class T>
class Value final : public ValueBase {
public:
    template <class... A>
    explicit Value(A&&... args) : value(std::forward<A>(args)...) {}
    const T value;
};

// The persistent map from a variable's id to its value: a hash array mapped trie keyed by the id
// itself (ids are distinct, so there are no collisions). Null is the empty map. Nodes are never
// changed once built: assigning copies the path to the key (O(log32 n)) and shares the rest, so
// copying a whole map is one reference.
class MapNode;
void map_add_ref(MapNode* root) noexcept;
void map_release(MapNode* root) noexcept;
ValueBase* map_find(const MapNode* root, std::uint64_t key) noexcept;
// A new root (holding one reference) with key -> value; `root` is unchanged.
MapNode* map_assign(const MapNode* root, std::uint64_t key, ValueBase* value);
// A new root (holding one reference, or null when empty) without key; `root` is unchanged.
MapNode* map_remove(MapNode* root, std::uint64_t key);

// An owning reference to a map root.
class Vars {
public:
    Vars() noexcept = default;
    static Vars adopt(MapNode* root) noexcept {
        Vars v;
        v.m_root = root;
        return v;
    }
    // A new reference to `root` (which may be null).
    static Vars share(MapNode* root) noexcept {
        if (root)
            map_add_ref(root);
        return adopt(root);
    }
    Vars(const Vars& o) noexcept : m_root(o.m_root) {
        if (m_root)
            map_add_ref(m_root);
    }
    Vars(Vars&& o) noexcept : m_root(std::exchange(o.m_root, nullptr)) {}
    Vars& operator=(Vars o) noexcept {
        std::swap(m_root, o.m_root);
        return *this;
    }
    ~Vars() {
        if (m_root)
            map_release(m_root);
    }
    MapNode* get() const noexcept { return m_root; }

private:
    MapNode* m_root = nullptr;
};

// What a Context handle points to: one mutable context (asyncio's contextvars.Context). Setting a
// variable replaces `vars` with a new version of the map; copying the context shares the map.
// `vars` is touched only by the thread that has the context current (asyncio's rule: a context is
// entered by one thread at a time).
class ContextImpl : public AtomicRefCounted<ContextImpl> {
public:
    ContextImpl() = default;
    explicit ContextImpl(Vars v) noexcept : vars(std::move(v)) {}

    Vars vars;
    // Context::run() refuses a context that is already entered.
    std::atomic<bool> entered{false};
};

// A context that is made only when needed. A task, a callback handle or a worker job runs in a
// copy of the context current when it was created (asyncio's copy_context()); almost always
// nothing is ever set in it, so it starts as a shared reference to the creator's map (free when
// the map is empty) and becomes a ContextImpl only when a variable is set in it or the Context
// object is asked for (Task::get_context()).
class LazyContext {
public:
    LazyContext() noexcept = default;
    LazyContext(const LazyContext&) = delete;
    LazyContext& operator=(const LazyContext&) = delete;
    ~LazyContext() { reset(); }

    // Becomes a copy of the current context (asyncio's copy_context()).
    inline void capture() noexcept;
    // Becomes the given context itself (not a copy).
    void adopt(ContextImpl* ctx) noexcept {
        ctx->add_ref();
        reset();
        m_bits = reinterpret_cast<std::uintptr_t>(ctx) | ctx_tag;
    }
    MapNode* vars() const noexcept {
        return (m_bits & ctx_tag) ? ctx()->vars.get() : reinterpret_cast<MapNode*>(m_bits);
    }
    // The ContextImpl, made now if it does not exist yet.
    ContextImpl& materialize();
    ContextImpl* materialized() const noexcept { return (m_bits & ctx_tag) ? ctx() : nullptr; }

private:
    // One word, as it sits in every task and callback: a MapNode* (the copied map, holding a
    // reference; 0 for the empty map), or a ContextImpl* with the low bit set (holding a
    // reference). Both are at least 2-aligned.
    static constexpr std::uintptr_t ctx_tag = 1;
    ContextImpl* ctx() const noexcept { return reinterpret_cast<ContextImpl*>(m_bits & ~ctx_tag); }
    void reset() noexcept {
        if (m_bits & ctx_tag)
            ctx()->release();
        else if (m_bits)
            map_release(reinterpret_cast<MapNode*>(m_bits));
        m_bits = 0;
    }

    std::uintptr_t m_bits = 0;
};

// The context the running code sees; null means the thread's own base context.
inline thread_local LazyContext* t_context = nullptr;
LazyContext& base_context() noexcept;
inline LazyContext& current_context() noexcept { return t_context ? *t_context : base_context(); }

inline void LazyContext::capture() noexcept {
    MapNode* v = current_context().vars();
    if (v)
        map_add_ref(v);
    reset();
    m_bits = reinterpret_cast<std::uintptr_t>(v);
}

// Makes `ctx` the current context for its lifetime (a null `ctx` changes nothing). Switching is
// one thread-local pointer swap: cheap enough for every task step.
class ContextScope {
public:
    explicit ContextScope(LazyContext* ctx) noexcept : m_prev(t_context), m_set(ctx != nullptr) {
        if (m_set)
            t_context = ctx;
    }
    ContextScope(const ContextScope&) = delete;
    ContextScope& operator=(const ContextScope&) = delete;
    ~ContextScope() {
        if (m_set)
            t_context = m_prev;
    }

private:
    LazyContext* m_prev;
    bool m_set;
};

} // namespace asyncio::detail
