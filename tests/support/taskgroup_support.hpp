// Test support for the TaskGroup tests: error types standing in for Python's, the set of types
// an ExceptionGroup holds, and small coroutines that sleep, give a value or fail.
#pragma once

#include <asyncio.hpp>

#include <exception>
#include <set>
#include <stdexcept>
#include <string>
#include <typeindex>

#include "asyncio_test.hpp"

namespace asyncio::testing {

struct MyExc : std::runtime_error {
    MyExc() : std::runtime_error("MyExc") {}
};
struct ZeroDivisionError : std::runtime_error {
    ZeroDivisionError() : std::runtime_error("division by zero") {}
};
struct ValueErr : std::runtime_error {
    explicit ValueErr(double t) : std::runtime_error(std::to_string(t)) {}
};
struct MyBaseExc {}; // not a std::exception: Python's BaseException subclass

std::set<std::type_index> error_types(const ExceptionGroup& eg) {
    std::set<std::type_index> types;
    for (const std::exception_ptr& e : eg.exceptions()) {
        try {
            std::rethrow_exception(e);
        } catch (const ExceptionGroup&) {
            types.insert(typeid(ExceptionGroup));
        } catch (const ZeroDivisionError&) {
            types.insert(typeid(ZeroDivisionError));
        } catch (const MyExc&) {
            types.insert(typeid(MyExc));
        } catch (const ValueErr&) {
            types.insert(typeid(ValueErr));
        } catch (const std::invalid_argument&) {
            types.insert(typeid(std::invalid_argument));
        } catch (const MyBaseExc&) {
            types.insert(typeid(MyBaseExc));
        } catch (...) {
            types.insert(typeid(void));
        }
    }
    return types;
}

template <class... E>
std::set<std::type_index> types_of() {
    return {std::type_index(typeid(E))...};
}

Coro<void> nap(double delay) { co_await sleep(delay); }

Coro<int> value_after(double delay, int v) {
    co_await sleep(delay);
    co_return v;
}

Coro<void> divide_by_zero_after(double delay) {
    co_await sleep(delay);
    throw ZeroDivisionError();
}

Coro<void> crash_after(double t) {
    co_await sleep(t);
    throw ValueErr(t);
}

} // namespace asyncio::testing
