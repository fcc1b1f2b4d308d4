# shellcheck shell=bash
# Helpers for the scripts in this directory (sourced, not run).

asyncio_root=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)

asyncio_jobs() {
    nproc 2>/dev/null || echo 2
}

# asyncio_configure <build-dir> [cmake-arg...]: configures the project into <build-dir>, with
# Ninja when it is there (only on the first configure: a build tree keeps its generator) and with
# $CXX as the compiler when set.
asyncio_configure() {
    local build_dir=$1
    shift
    local args=(-S "$asyncio_root" -B "$build_dir")
    if [ ! -f "$build_dir/CMakeCache.txt" ] && command -v ninja >/dev/null 2>&1; then
        args+=(-G Ninja)
    fi
    if [ -n "${CXX:-}" ]; then
        args+=("-DCMAKE_CXX_COMPILER=$(command -v "$CXX" || echo "$CXX")")
    fi
    cmake "${args[@]}" "$@"
}
