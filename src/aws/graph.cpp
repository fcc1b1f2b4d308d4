// asyncio.graph: the call graph, read from the tasks' frames and the futures' done lists.
#include "asyncio/graph.hpp"

#include <algorithm>
#include <sstream>

namespace asyncio {

namespace {

FutureCallGraph build(detail::FutureCore& future, std::optional<int> limit,
                      std::vector<const detail::FutureCore*>& path) {
    FutureCallGraph graph;
    graph.future = FutureRef(&future);
    if (future.is_task() && limit != 0) {
        auto& task = static_cast<detail::TaskCore&>(future);
        graph.call_stack = task.get_stack(std::nullopt); // outermost first
        if (limit) {
            const std::size_t n = static_cast<std::size_t>(*limit > 0 ? *limit : -*limit);
            if (n < graph.call_stack.size()) {
                if (*limit > 0) // the innermost
                    graph.call_stack.erase(graph.call_stack.begin(),
                                           graph.call_stack.end() - static_cast<long>(n));
                else
                    graph.call_stack.resize(n);
            }
        }
        std::reverse(graph.call_stack.begin(), graph.call_stack.end()); // innermost first
    }
    path.push_back(&future);
    const auto& callbacks = future.callbacks();
    for (detail::CallbackNode* n = callbacks.front(); n; n = callbacks.next(n)) {
        detail::FutureCore* parent = n->awaiting_future();
        if (!parent || std::find(path.begin(), path.end(), parent) != path.end())
            continue; // a plain callback, or a loop in the graph
        graph.awaited_by.push_back(build(*parent, limit, path));
    }
    path.pop_back();
    return graph;
}

void render(const FutureCallGraph& g, std::vector<std::string>& lines, int level) {
    const std::string indent(static_cast<std::size_t>(level) * 4, ' ');
    std::ostringstream head;
    const detail::FutureCore& core = g.future.core();
    if (core.is_task())
        head << "* Task(name='" << static_cast<const detail::TaskCore&>(core).name()
             << "', id=" << static_cast<const void*>(&core) << ")";
    else
        head << "* Future(id=" << static_cast<const void*>(&core) << ")";
    lines.push_back(indent + head.str());
    if (!g.call_stack.empty()) {
        lines.push_back(indent + "  + Call stack:");
        for (const Frame& f : g.call_stack)
            lines.push_back(indent + "  |   File '" + f.filename + "', line " +
                            std::to_string(f.lineno) + ", in async " + f.name + "()");
    }
    if (!g.awaited_by.empty()) {
        lines.push_back(indent + "  + Awaited by:");
        for (const FutureCallGraph& parent : g.awaited_by)
            render(parent, lines, level + 1);
    }
}

} // namespace

std::optional<FutureCallGraph> capture_call_graph(std::optional<FutureRef> future, int,
                                                  std::optional<int> limit) {
    detail::FutureCore* core = nullptr;
    if (future) {
        core = &future->core();
    } else {
        core = detail::running_core_or_raise().current_task();
        if (!core)
            return std::nullopt;
    }
    std::vector<const detail::FutureCore*> path;
    return build(*core, limit, path);
}

std::string format_call_graph(std::optional<FutureRef> future, int depth,
                              std::optional<int> limit) {
    std::optional<FutureCallGraph> graph = capture_call_graph(std::move(future), depth, limit);
    if (!graph)
        return "";
    std::vector<std::string> lines;
    render(*graph, lines, 0);
    std::string out;
    for (std::size_t i = 0; i < lines.size(); ++i)
        out += (i ? "\n" : "") + lines[i];
    return out;
}

void print_call_graph(std::optional<FutureRef> future, int depth, std::optional<int> limit,
                      std::ostream& os) {
    os << format_call_graph(std::move(future), depth, limit) << "\n";
}

} // namespace asyncio
