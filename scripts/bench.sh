#!/usr/bin/env bash
# Runs the benchmarks of bench/ and the peers of BENCH.md on this machine and prints one table:
# per workload our median ns/op and RSS, each peer's median, the ratios ours ÷ peer and
# ours ÷ floor, the BENCH.md target and whether it is met (docs/performance.md explains it all).
#
#     scripts/bench.sh
#
# 1. Installs what is missing (apt-get, as root or through sudo): the build's packages
#    (scripts/setup.sh), python3, and the peers' libboost1.81-dev, librust-tokio-dev,
#    python3-uvloop, nodejs and cargo. A peer that cannot be installed or built is left out of
#    the table with a note; the run goes on without it.
# 2. Builds our benchmarks in release mode (build-bench/, target asyncio_bench).
# 3. Runs RUNS passes of our workloads, each workload in a fresh process (with the floor of
#    bench/<workload>_floor.cpp next to it where there is one), then the peers through
#    their own scripts in ../shared/bench/peers/ (run_peers.sh: CPython, uvloop, Node.js,
#    tokio; run_cpp_peers.sh: Boost.Asio and the bare C++20 floor), with the same RUNS and
#    workloads.
# 4. Collects every RESULT line in /tmp/asyncio-bench/<date>-<time>/results.txt (also reachable
#    as /tmp/asyncio-bench/latest/) and prints the table of scripts/bench_table.py, saved next
#    to it as table.md. `scripts/bench_table.py <results.txt>...` prints it again.
#
# Environment:
#     RUNS=3               passes (medians are taken over them)
#     ONLY_WORKLOADS="..." these workloads only (default: every bench/<workload>.cpp)
#     SKIP_PEERS=1         ours only: no peer is installed, built or run
#     PROC_TIMEOUT=300     wall-clock limit of one benchmark process, in seconds
#     QUIET_MAX_WAIT=180 QUIET_MAX_BUSY=0.10 QUIET_WINDOW=0.5
#                          before each process, wait (at most QUIET_MAX_WAIT s) until the rest
#                          of the machine uses less than QUIET_MAX_BUSY CPU-seconds per second,
#                          sampled over QUIET_WINDOW s; the peers' scripts read the same knobs
#     BENCH_BUILD_DIR      our build tree (default: build-bench/ at the top of the repository)
#     CXX                  the C++ compiler for our build
# Passed through to the peers' scripts (see their headers): ONLY_IMPLS (default here:
# "cpython uvloop node tokio tokio_mt"), ONLY (default here: asio and the floor variants
# that the chosen workloads compare with), PYTHON, QUIET_WAIT, BUILD_DIR (default here:
# /tmp/asyncio-bench/peers-build).
#
# Exits non-zero only when one of our own benchmarks fails (or the build, or python3 is
# missing); a peer that fails is a note under the table.
set -euo pipefail
# shellcheck source=scripts/common.sh
source "$(dirname "${BASH_SOURCE[0]}")/common.sh"

peers_dir=$(cd "$asyncio_root/.." && pwd)/shared/bench/peers
build_dir=${BENCH_BUILD_DIR:-$asyncio_root/build-bench}
runs=${RUNS:-3}
proc_timeout=${PROC_TIMEOUT:-300}
quiet_max_wait=${QUIET_MAX_WAIT:-180}
quiet_max_busy=${QUIET_MAX_BUSY:-0.10}
quiet_window=${QUIET_WINDOW:-0.5}
skip_peers=${SKIP_PEERS:-0}
[ "$skip_peers" = 0 ] || [ "$skip_peers" = 1 ] || {
    echo "bench: SKIP_PEERS must be 0 or 1" >&2
    exit 2
}
[[ "$runs" =~ ^[1-9][0-9]*$ ]] || {
    echo "bench: RUNS must be a positive integer" >&2
    exit 2
}

stamp=$(date +%Y%m%d-%H%M%S)
out_dir=/tmp/asyncio-bench/$stamp
mkdir -p "$out_dir"
ln -sfn "$stamp" /tmp/asyncio-bench/latest
ours_file=$out_dir/ours.txt
results=$out_dir/results.txt
notes_file=$out_dir/notes.txt
: >"$notes_file"

note() { # a line under the table (and on stderr now)
    echo "bench: $*" >&2
    echo "# note: $*" >>"$notes_file"
}

# ------------------------------------------------------------------------------ workloads
# Ours: one program per bench/<workload>.cpp, in BENCH.md's order, then any others.
bench_order=(spawn yield sleepers pingpong cancel wait_for timeout to_thread threadsafe echo queue lock
    taskgroup subprocess echo_conn)
available=()
for w in "${bench_order[@]}"; do
    [ -f "$asyncio_root/bench/$w.cpp" ] && available+=("$w")
done
for source in "$asyncio_root"/bench/*.cpp; do
    w=$(basename "$source" .cpp)
    [[ $w == *_floor ]] && continue # run with its workload, below
    [[ " ${available[*]} " == *" $w "* ]] || available+=("$w")
done
if [ -n "${ONLY_WORKLOADS:-}" ]; then
    workloads=()
    for w in $ONLY_WORKLOADS; do
        [[ " ${available[*]} " == *" $w "* ]] || {
            echo "bench: no workload '$w' (bench/ has: ${available[*]})" >&2
            exit 2
        }
        workloads+=("$w")
    done
else
    workloads=("${available[@]}")
fi

# The peers' share of them.
peer_workloads=()
for w in "${workloads[@]}"; do
    case $w in spawn | yield | sleepers | pingpong | cancel | wait_for | timeout | to_thread | threadsafe | echo | queue | lock | taskgroup | subprocess | echo_conn)
        peer_workloads+=("$w") ;;
    esac
done
# The floor variant each workload is compared with (floor_bench.cpp's usage says what each bounds;
# it has none for queue and lock).
floor_variant() {
    case $1 in
        spawn) echo spawnq ;;
        yield | pingpong) echo readyq ;;
        sleepers) echo heap ;;
        cancel | timeout) echo throw ;;
    esac
}
floor_variants=()
for w in "${peer_workloads[@]}"; do
    v=$(floor_variant "$w")
    [ -n "$v" ] && [[ " ${floor_variants[*]} " != *" $v "* ]] && floor_variants+=("$v")
done

# ------------------------------------------------------------------------------ 1. install
"$asyncio_root/scripts/setup.sh"
install_peers() {
    local wanted=(libboost1.81-dev librust-tokio-dev python3-uvloop) package
    command -v python3 >/dev/null 2>&1 || wanted+=(python3)
    command -v node >/dev/null 2>&1 || wanted+=(nodejs)
    command -v cargo >/dev/null 2>&1 || wanted+=(cargo)
    "$asyncio_root/scripts/setup.sh" "${wanted[@]}" && return 0
    echo "bench: installing ${wanted[*]} together failed; trying one at a time" >&2
    for package in "${wanted[@]}"; do
        "$asyncio_root/scripts/setup.sh" "$package" || note "could not install $package"
    done
}
if [ "$skip_peers" = 1 ]; then
    command -v python3 >/dev/null 2>&1 || "$asyncio_root/scripts/setup.sh" python3 || true
elif [ ! -d "$peers_dir" ]; then
    note "no peers at $peers_dir: ours only"
    skip_peers=1
    command -v python3 >/dev/null 2>&1 || "$asyncio_root/scripts/setup.sh" python3 || true
else
    install_peers
fi
command -v python3 >/dev/null 2>&1 || {
    echo "bench: python3 is missing and could not be installed; it prints the table" \
        "(apt-get install python3)" >&2
    exit 1
}

# ------------------------------------------------------------------------------ 2. build
echo "== build ($build_dir, Release)" >&2
asyncio_configure "$build_dir" -DCMAKE_BUILD_TYPE=Release -DASYNCIO_BUILD_BENCH=ON \
    -DASYNCIO_BUILD_TESTS=OFF -DASYNCIO_BUILD_EXAMPLES=OFF >/dev/null
cmake --build "$build_dir" --target asyncio_bench -j "$(asyncio_jobs)"

# echo is driven by the peers' shared load client: ours gets it built from the same source.
if [[ " ${workloads[*]} " == *" echo "* ]]; then
    if [ -f "$peers_dir/echo_client/echo_client.cpp" ] &&
        "${CXX:-g++}" -O2 -std=c++20 -o "$build_dir/echo_client" \
            "$peers_dir/echo_client/echo_client.cpp"; then
        export ECHO_CLIENT=$build_dir/echo_client
    else
        note "echo cannot run: no load client at $peers_dir/echo_client"
    fi
fi

# ------------------------------------------------------------------------------ measuring
# Non-idle CPU time of the whole machine, in clock ticks (user nice system irq softirq steal).
hz=$(getconf CLK_TCK 2>/dev/null || echo 100)
busy_ticks() { awk '$1 == "cpu" { print $2 + $3 + $4 + $7 + $8 + $9; exit }' /proc/stat; }

# Waits until the rest of the machine is idle enough, or for QUIET_MAX_WAIT seconds at most.
wait_for_quiet() {
    local give_up=$((SECONDS + ${quiet_max_wait%.*})) before after
    while :; do
        before=$(busy_ticks)
        sleep "$quiet_window"
        after=$(busy_ticks)
        if awk -v d=$((after - before)) -v hz="$hz" -v w="$quiet_window" -v max="$quiet_max_busy" \
            'BEGIN { exit !(d / hz / w < max) }'; then
            return 0
        fi
        if [ "$SECONDS" -ge "$give_up" ]; then
            echo "   (machine still busy after ${quiet_max_wait}s; measuring anyway)" >&2
            return 0
        fi
    done
}

# measure <file> <label> <command...>: runs the command once (after wait_for_quiet) and appends
# its RESULT line to <file>, followed by a '# noise' line: the process's wall and CPU seconds,
# and the CPU seconds the rest of the machine used meanwhile (bench_table.py leaves out samples
# where that was significant). A failure appends a '# FAILED' line and returns 1.
measure() {
    local file=$1 label=$2
    shift 2
    local output=$out_dir/.output timing=$out_dir/.timing before after line wall user sys rc=0
    echo "-- $label" >&2
    wait_for_quiet
    before=$(busy_ticks)
    local TIMEFORMAT='%R %U %S'
    { time timeout "$proc_timeout" "$@" >"$output" 2>&3; } 3>&2 2>"$timing" || rc=$?
    after=$(busy_ticks)
    line=$(grep -m1 '^RESULT ' "$output" || true)
    if [ "$rc" -ne 0 ] || [ -z "$line" ]; then
        echo "# FAILED $label rc=$rc" | tee -a "$file" >&2
        return 1
    fi
    echo "$line"
    echo "$line" >>"$file"
    read -r wall user sys < <(tr , . <"$timing") # in case of a decimal comma
    awk -v line="$line" -v d=$((after - before)) -v hz="$hz" -v wall="$wall" -v user="$user" \
        -v sys="$sys" '
        BEGIN {
            self = user + sys; others = d / hz - self
            if (others < 0) others = 0
            n = split(line, field, " ")
            for (i = 1; i <= n; i++) {
                if (field[i] ~ /^impl=/) impl = substr(field[i], 6)
                if (field[i] ~ /^workload=/) workload = substr(field[i], 10)
            }
            printf "# noise impl=%s workload=%s proc_wall_s=%.2f self_cpu_s=%.2f others_cpu_s=%.2f\n",
                impl, workload, wall, self, others
        }' >>"$file"
}

machine_header() {
    echo "# host: $(uname -srm); nproc=$(nproc); $(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2 | sed 's/^ *//')"
    echo "# loadavg at start: $(cut -d' ' -f1-3 /proc/loadavg)"
}

# ------------------------------------------------------------------------------ 3. run: ours
ours_failed=0
{
    commit=$(git -C "$asyncio_root" rev-parse --short HEAD 2>/dev/null || echo unknown)
    if [ "$commit" != unknown ] && ! git -C "$asyncio_root" diff --quiet HEAD -- include src bench; then
        commit+=" with uncommitted changes to include/, src/ or bench/"
    fi
    echo "# asyncio results $stamp, commit $commit"
    machine_header
    echo "# $("${CXX:-c++}" --version | head -1); build: $build_dir (Release)"
    echo "# runs=$runs workloads=[${workloads[*]}]"
} >"$ours_file"
for run in $(seq 1 "$runs"); do
    echo "# run $run start $(date +%T) loadavg $(cut -d' ' -f1-3 /proc/loadavg)" >>"$ours_file"
    for w in "${workloads[@]}"; do
        measure "$ours_file" "run $run asyncio $w" "$build_dir/bench/bench_$w" || ours_failed=1
        # A floor measured here (bench/<workload>_floor.cpp: bare libuv) runs next to it.
        if [ -f "$asyncio_root/bench/${w}_floor.cpp" ]; then
            measure "$ours_file" "run $run floor $w" "$build_dir/bench/bench_${w}_floor" || true
        fi
    done
done

# ------------------------------------------------------------------------------ 3. run: peers
peer_files=()
if [ "$skip_peers" = 0 ] && [ ${#peer_workloads[@]} -gt 0 ]; then
    export BUILD_DIR=${BUILD_DIR:-/tmp/asyncio-bench/peers-build}
    mkdir -p "$BUILD_DIR"

    # run_peers.sh builds tokio and checks uvloop before anything else, and stops when either
    # fails: check both here, leave out what does not work, and let the script build the rest.
    impls=()
    for impl in ${ONLY_IMPLS:-cpython uvloop node tokio tokio_mt}; do impls+=("$impl"); done
    drop_impls() { # drop_impls <why> <impl...>
        local why=$1 impl kept=() dropped=()
        shift
        for impl in "${impls[@]}"; do
            if [[ " $* " == *" $impl "* ]]; then dropped+=("$impl"); else kept+=("$impl"); fi
        done
        impls=("${kept[@]}")
        [ ${#dropped[@]} -eq 0 ] || note "${dropped[*]} left out: $why"
    }
    shim_dir=$out_dir/shim
    command -v node >/dev/null 2>&1 || drop_impls "no node (apt-get install nodejs)" node node_await_null
    echo "== build the tokio peer" >&2
    if ! command -v cargo >/dev/null 2>&1 ||
        ! (cd "$peers_dir/tokio" && CARGO_TARGET_DIR="$BUILD_DIR/tokio-target" \
            cargo build --release --offline --quiet); then
        drop_impls "the tokio peer does not build (needs cargo and librust-tokio-dev)" \
            tokio tokio_mt tokio_mpsc
        # run_peers.sh still runs cargo: give it one that does nothing.
        mkdir -p "$shim_dir"
        printf '#!/bin/sh\nexit 0\n' >"$shim_dir/cargo"
        chmod +x "$shim_dir/cargo"
    fi
    if [ ${#impls[@]} -gt 0 ] && ! /usr/bin/python3 -c 'import uvloop' 2>/dev/null; then
        # run_peers.sh does not start without it.
        drop_impls "run_peers.sh needs uvloop for /usr/bin/python3 (apt-get install python3-uvloop)" \
            "${impls[@]}"
    fi
    if [ ${#impls[@]} -gt 0 ]; then
        echo "== peers: run_peers.sh (${impls[*]})" >&2
        rc=0
        PATH=$shim_dir:$PATH RUNS=$runs ONLY_IMPLS="${impls[*]}" \
            ONLY_WORKLOADS="${peer_workloads[*]}" PROC_TIMEOUT=$proc_timeout \
            "$peers_dir/run_peers.sh" "$out_dir/peers-a.txt" >"$out_dir/peers-a.log" || rc=$?
        [ "$rc" -eq 0 ] || note "run_peers.sh exited with $rc (see $out_dir/peers-a.txt)"
        [ -f "$out_dir/peers-a.txt" ] && peer_files+=("$out_dir/peers-a.txt")
    fi

    # run_cpp_peers.sh needs Boost for asio and builds asio before the floor; without Boost (or
    # when it stops early) the floor is built and run here, from the same source.
    only_cpp=${ONLY:-}
    if [ -z "$only_cpp" ]; then
        for w in "${peer_workloads[@]}"; do only_cpp+="asio:$w "; done
        for v in "${floor_variants[@]}"; do only_cpp+="floor:$v "; done
    fi
    if [ -f /usr/include/boost/asio.hpp ]; then
        echo "== peers: run_cpp_peers.sh ($only_cpp)" >&2
        rc=0
        RUNS=$runs ONLY="$only_cpp" PROC_TIMEOUT=$proc_timeout \
            "$peers_dir/run_cpp_peers.sh" "$out_dir/peers-b.txt" >"$out_dir/peers-b.log" || rc=$?
        [ "$rc" -eq 0 ] || note "run_cpp_peers.sh exited with $rc (see $out_dir/peers-b.txt)"
        [ -f "$out_dir/peers-b.txt" ] && peer_files+=("$out_dir/peers-b.txt")
    else
        note "asio left out: Boost.Asio is missing (apt-get install libboost1.81-dev)"
    fi
    if [ ${#floor_variants[@]} -gt 0 ] && [ -z "${ONLY:-}" ] &&
        ! grep -qs '^RESULT impl=floor-' "$out_dir/peers-b.txt"; then
        floor_file=$out_dir/floor.txt
        echo "# floor results $stamp (built here from $peers_dir/floor)" >"$floor_file"
        if "${CXX:-g++}" -O2 -std=c++20 -o "$BUILD_DIR/floor_bench" "$peers_dir/floor/floor_bench.cpp"; then
            for run in $(seq 1 "$runs"); do
                for v in "${floor_variants[@]}"; do
                    measure "$floor_file" "run $run floor $v" "$BUILD_DIR/floor_bench" "$v" || true
                done
            done
            peer_files+=("$floor_file")
        else
            note "floor left out: floor_bench.cpp does not build"
        fi
    fi
fi

# ------------------------------------------------------------------------------ 4. table
cat "$ours_file" "${peer_files[@]}" "$notes_file" >"$results"
rm -f "$out_dir/.output" "$out_dir/.timing"
echo >&2
python3 "$asyncio_root/scripts/bench_table.py" "$results" | tee "$out_dir/table.md"
echo >&2
echo "results: $results" >&2
echo "table:   $out_dir/table.md" >&2
exit "$ours_failed"
