// Internal: a minimal intrusive smart pointer. The pointee provides add_ref() and release();
// release() decides what happens on the last reference (delete, or report and then delete).
#pragma once

#include <cstddef>
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

} // namespace asyncio::detail
