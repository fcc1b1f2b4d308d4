// asyncio.graph (3.14): who awaits whom. capture_call_graph, format_call_graph,
// print_call_graph.
#pragma once

#include <iostream>
#include <optional>
#include <ostream>
#include <string>
#include <vector>

#include "detail/aws/awaitables.hpp"
#include "futures.hpp"
#include "tasks.hpp"

namespace asyncio {

// One future or task of the graph: its coroutine frames, innermost first (none for a plain
// future), and the futures and tasks that await it, each with its own graph. A task awaits
// through `co_await`, gather(), shield(), wait(), wait_for() and timeout() (in place: the same
// task), and a TaskGroup's body task awaits the group's children.
struct FutureCallGraph {
    FutureRef future; // a task's too: future.core().is_task()
    std::vector<Frame> call_stack;
    std::vector<FutureCallGraph> awaited_by;
};

// The call graph of `future` (a Task<T>, TaskRef, Future<T> or FutureRef), or, with none given,
// of the current task (std::nullopt outside a task; RuntimeError without a running loop).
// `limit` keeps the innermost `limit` frames of each call stack (the outermost -limit when
// negative; 0 drops them all). `depth` is asyncio's number of the caller's own frames to leave
// out; only coroutine frames are recorded here, and none of them is the caller's, so it leaves
// nothing out.
std::optional<FutureCallGraph> capture_call_graph(std::optional<FutureRef> future = std::nullopt,
                                                  int depth = 1,
                                                  std::optional<int> limit = std::nullopt);
// The graph as asyncio prints it:
//     * Task(name='Task-2', id=0x...)
//       + Call stack:
//       |   File 'main.cpp', line 12, in async worker()
//       + Awaited by:
//          * Task(name='Task-1', id=0x...)
// Empty when there is no graph.
std::string format_call_graph(std::optional<FutureRef> future = std::nullopt, int depth = 1,
                              std::optional<int> limit = std::nullopt);
void print_call_graph(std::optional<FutureRef> future = std::nullopt, int depth = 1,
                      std::optional<int> limit = std::nullopt, std::ostream& os = std::cout);

// The same for a Task<T> or Future<T> (or a TaskRef).
template <detail::FutureLike H>
requires(!std::is_same_v<H, FutureRef>) std::optional<FutureCallGraph> capture_call_graph(
    const H& future, int depth = 1, std::optional<int> limit = std::nullopt) {
    return capture_call_graph(FutureRef(&future.core()), depth, limit);
}
template <detail::FutureLike H>
requires(!std::is_same_v<H, FutureRef>) std::string
    format_call_graph(const H& future, int depth = 1, std::optional<int> limit = std::nullopt) {
    return format_call_graph(FutureRef(&future.core()), depth, limit);
}
template <detail::FutureLike H>
requires(!std::is_same_v<H, FutureRef>) void print_call_graph(
    const H& future, int depth = 1, std::optional<int> limit = std::nullopt,
    std::ostream& os = std::cout) {
    print_call_graph(FutureRef(&future.core()), depth, limit, os);
}

} // namespace asyncio
