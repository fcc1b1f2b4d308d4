// Internal: a minimal intrusive smart pointer. The pointee provides add_ref() and release();
// release() decides what happens on the last reference (delete, or report and then delete).
#pragma once

#include <atomic>
#include <cstddef>
#include <cstdint>
#include <functional>
#include <utility>

namespace asyncio::detail {

template <class T>
class IntrusivePtr {
public:
    IntrusivePtr() noexcept = default;
    explicit IntrusivePtr(T* p) noexcept : m_p(p) {
        if (m_p)
            m_p->add_ref();
    }
    IntrusivePtr(const IntrusivePtr& o) noexcept : IntrusivePtr(o.m_p) {}
    IntrusivePtr(IntrusivePtr&& o) noexcept : m_p(std::exchange(o.m_p, nullptr)) {}
    template <class U>
    IntrusivePtr(const IntrusivePtr<U>& o) noexcept : IntrusivePtr(o.get()) {}
    ~IntrusivePtr() { reset(); }

    IntrusivePtr& operator=(IntrusivePtr o) noexcept {
        std::swap(m_p, o.m_p);
        return *this;
    }
    void reset() noexcept {
        if (T* p = std::exchange(m_p, nullptr))
            p->release();
    }
    T* get() const noexcept { return m_p; }
    T* operator->() const noexcept { return m_p; }
    T& operator*() const noexcept { return *m_p; }
    explicit operator bool() const noexcept { return m_p != nullptr; }
    friend bool operator==(const IntrusivePtr& a, const IntrusivePtr& b) noexcept {
        return a.m_p == b.m_p;
    }

private:
    T* m_p = nullptr;
};

// The reference count of an object of one thread: the last release() deletes it (through
// Derived, whose destructor may be virtual). Not copyable.
template <class Derived>
class RefCounted {
public:
    RefCounted() = default;
    RefCounted(const RefCounted&) = delete;
    RefCounted& operator=(const RefCounted&) = delete;

    void add_ref() noexcept { ++m_refs; }
    void release() noexcept {
        if (--m_refs == 0)
            delete static_cast<Derived*>(this);
    }

protected:
    ~RefCounted() = default;

private:
    std::uint32_t m_refs = 0;
};

// The reference count of an object shared between threads: the last release(), from whichever
// thread, deletes it (through Derived, whose destructor may be virtual). Not copyable.
template <class Derived>
class AtomicRefCounted {
public:
    AtomicRefCounted() = default;
    AtomicRefCounted(const AtomicRefCounted&) = delete;
    AtomicRefCounted& operator=(const AtomicRefCounted&) = delete;

    void add_ref() noexcept { m_refs.fetch_add(1, std::memory_order_relaxed); }
    void release() noexcept {
        if (m_refs.fetch_sub(1, std::memory_order_acq_rel) == 1)
            delete static_cast<Derived*>(this);
    }

protected:
    ~AtomicRefCounted() = default;

private:
    std::atomic<std::uint32_t> m_refs{0};
};

} // namespace asyncio::detail
