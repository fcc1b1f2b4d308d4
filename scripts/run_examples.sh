#!/usr/bin/env bash
# Builds the examples (Release, in build/) and runs them in the order of examples/ORDER, each
# after a "== <name> ==" line. Exits non-zero if any example does.
#
#     scripts/run_examples.sh
#
# Environment: BUILD_DIR (default: build/ at the top of the repository), CXX.
set -euo pipefail
# shellcheck source=scripts/common.sh
source "$(dirname "${BASH_SOURCE[0]}")/common.sh"

"$asyncio_root/scripts/setup.sh"

build_dir=${BUILD_DIR:-$asyncio_root/build}
asyncio_configure "$build_dir" -DCMAKE_BUILD_TYPE=Release -DASYNCIO_BUILD_EXAMPLES=ON
cmake --build "$build_dir" --target asyncio_examples -j "$(asyncio_jobs)"

# A line "<client> with <server>" runs the server first (on a free port: its argument 0), waits
# for its "Serving on <host>:<port>" line, runs the client with that port, then stops the server
# with Ctrl-C (SIGINT), as a user would in two terminals.
run_with_server() { # client-binary server-binary
    local line port="" server_pid status=0
    coproc SERVER { exec "$2" 0 </dev/null; }
    server_pid=$SERVER_PID
    while IFS= read -r -t 10 line <&"${SERVER[0]}"; do
        echo "[server] $line"
        if [[ $line =~ ^Serving\ on\ .*:([0-9]+)$ ]]; then
            port=${BASH_REMATCH[1]}
            break
        fi
    done
    if [ -z "$port" ]; then
        kill -KILL "$server_pid" 2>/dev/null || true
        echo "(the server did not say where it serves)"
        return 1
    fi
    "$1" "$port" </dev/null || status=$?
    kill -INT "$server_pid"
    while IFS= read -r -t 10 line <&"${SERVER[0]}"; do
        echo "[server] $line"
    done
    wait "$server_pid" || status=$?
    return "$status"
}

failed=()
while read -r name with server _; do
    case "$name" in "" | "#"*) continue ;; esac
    binary="$build_dir/examples/$name"
    if [ ! -x "$binary" ]; then
        echo "note: examples/$name.cpp does not exist yet; skipped $name"
        continue
    fi
    echo "== $name =="
    status=0
    if [ "$with" = with ]; then
        run_with_server "$binary" "$build_dir/examples/$server" || status=$?
    else
        "$binary" </dev/null || status=$?
    fi
    if [ "$status" -ne 0 ]; then
        echo "($name exited with status $status)"
        failed+=("$name")
    fi
done <"$asyncio_root/examples/ORDER"

if [ ${#failed[@]} -ne 0 ]; then
    echo "failed: ${failed[*]}" >&2
    exit 1
fi
