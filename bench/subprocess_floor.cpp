// The floor of workload "subprocess": the same N sequential spawn-and-wait of "/bin/true" on
// bare libuv (uv_spawn, the exit callback, uv_close), with no library around it. What the
// library's create_subprocess_exec + wait() cannot go below while libuv starts its children.
// Prints impl=floor-uvspawn.
#include <cstdio>
#include <uv.h>

#include "result.hpp"

namespace {

constexpr const char* k_impl = "floor-uvspawn";

struct Child {
    uv_process_t handle{};
    long long status = -1;
    bool closed = false;
};

void on_exit(uv_process_t* handle, int64_t status, int signal) {
    auto* child = static_cast<Child*>(handle->data);
    child->status = signal ? -signal : status;
    uv_close(reinterpret_cast<uv_handle_t*>(handle),
             [](uv_handle_t* h) { static_cast<Child*>(h->data)->closed = true; });
}

} // namespace

int main(int argc, char** argv) {
    long long n = bench::count_arg(argc, argv, 500);
    uv_loop_t loop;
    uv_loop_init(&loop);
    char program[] = "/bin/true";
    char* args[] = {program, nullptr};
    uv_stdio_container_t stdio[3];
    for (int fd = 0; fd < 3; ++fd) {
        stdio[fd].flags = UV_INHERIT_FD;
        stdio[fd].data.fd = fd;
    }
    uv_process_options_t options{};
    options.exit_cb = on_exit;
    options.file = program;
    options.args = args;
    options.stdio_count = 3;
    options.stdio = stdio;

    auto start = bench::Clock::now();
    for (long long i = 0; i < n; ++i) {
        Child child;
        child.handle.data = &child;
        if (int rc = uv_spawn(&loop, &child.handle, &options); rc != 0) {
            std::fprintf(stderr, "uv_spawn: %s\n", uv_strerror(rc));
            bench::fail("subprocess", "uv_spawn failed", k_impl);
        }
        while (!child.closed)
            uv_run(&loop, UV_RUN_ONCE);
        if (child.status != 0)
            bench::fail("subprocess", "a child exited with a non-zero status", k_impl);
    }
    auto stop = bench::Clock::now();
    uv_loop_close(&loop);
    bench::result("subprocess", n, start, stop, k_impl);
}
