// Internal: a string that is usually empty (a cancel message, a task's given name) and then
// costs one pointer instead of a std::string's 32 bytes.
#pragma once

#include <memory>
#include <string>

namespace asyncio::detail {

class RareString {
public:
    RareString() noexcept = default;
    RareString(const RareString& o) : RareString() { *this = o.get(); }
    RareString& operator=(const RareString& o) { return *this = o.get(); }
    RareString(RareString&&) noexcept = default;
    RareString& operator=(RareString&&) noexcept = default;

    RareString& operator=(std::string s) {
        if (s.empty())
            m_s.reset();
        else if (m_s)
            *m_s = std::move(s);
        else
            m_s = std::make_unique<std::string>(std::move(s));
        return *this;
    }
    bool empty() const noexcept { return !m_s; }
    const std::string& get() const noexcept {
        static const std::string none;
        return m_s ? *m_s : none;
    }
    operator const std::string&() const noexcept { return get(); }

private:
    std::unique_ptr<std::string> m_s;
};

} // namespace asyncio::detail
