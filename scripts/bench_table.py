#!/usr/bin/env python3
"""Prints the table of scripts/bench.sh from RESULT lines (BENCH.md's format).

    scripts/bench_table.py RESULTS_FILE...

One row per workload: our median ns/op and peak RSS, each peer's median ns/op with the ratio
ours / peer, the floor variant the workload is compared with (its median and ours / floor), the
BENCH.md target and whether our median meets it. docs/performance.md explains every column.

A '# noise ... proc_wall_s=W ... others_cpu_s=O' line after a RESULT line says how much CPU the
rest of the machine used while that process ran; a sample with O > 0.10 * W + 0.2 is noisy and
left out of the medians, unless every sample of that (impl, workload) is (then all are used and
the cell is marked '*'). '# note: ...' and '# FAILED ...' lines are listed under the table.
Python standard library only.
"""

import statistics
import sys

WORKLOAD_ORDER = ["spawn", "yield", "sleepers", "pingpong", "cancel", "wait_for", "timeout",
                  "to_thread", "threadsafe", "echo", "queue", "lock", "taskgroup", "subprocess",
                  "echo_conn"]
PEER_ORDER = ["cpython", "cpython_deb", "uvloop", "node", "node_await_null", "tokio", "tokio_mt",
              "tokio_mpsc", "asio"]
# The floor variant each workload is compared with (floor_bench.cpp: what each variant bounds).
FLOOR = {"spawn": "spawnq", "yield": "readyq", "pingpong": "readyq", "sleepers": "heap",
         "cancel": "throw", "timeout": "throw", "subprocess": "uvspawn"}
# Workloads whose N tasks are all alive at once: RSS is also given per task.
PER_TASK_RSS = {"spawn", "sleepers", "cancel", "timeout", "taskgroup"}
NOISE_FRAC, NOISE_SLACK_S = 0.10, 0.2
OURS = "asyncio"


def read(paths):
    """{(impl, workload): [sample]}, notes, failures. A sample is a dict of the RESULT fields."""
    samples, notes, failures = {}, [], []
    for path in paths:
        last = None
        with open(path, encoding="utf-8") as f:
            for line in f:
                if line.startswith("RESULT "):
                    fields = dict(t.split("=", 1) for t in line.split()[1:] if "=" in t)
                    key = (fields.pop("impl"), fields.pop("workload"))
                    last = {k: float(v) for k, v in fields.items()}
                    last["noisy"] = False
                    samples.setdefault(key, []).append(last)
                elif line.startswith("# noise ") and last is not None:
                    fields = dict(t.split("=", 1) for t in line.split()[2:] if "=" in t)
                    wall, others = float(fields["proc_wall_s"]), float(fields["others_cpu_s"])
                    last["noisy"] = others > NOISE_FRAC * wall + NOISE_SLACK_S
                    if "self_cpu_s" in fields:
                        last["self_cpu_s"] = float(fields["self_cpu_s"])
                    last = None
                elif line.startswith("# note: "):
                    notes.append(line[len("# note: "):].strip())
                elif line.startswith("# FAILED"):
                    failures.append(line[len("# "):].strip())
    return samples, notes, failures


def primary(impl, workload, s):
    """ns per op; for sleepers (but not the floor's heap) the per-task overhead (seconds - 1)/N;
    for echo the time per request, 1 / (requests per second)."""
    if workload == "echo":
        return 1e9 / s["req_per_s"]
    if workload == "sleepers" and not impl.startswith("floor-"):
        return (s["seconds"] - 1.0) * 1e9 / s["n"]
    return s["ns_per_op"]


def medians(samples):
    """{(impl, workload): {ns, rss_kb, n, clean, total, star}}."""
    out = {}
    for (impl, workload), all_samples in samples.items():
        clean = [s for s in all_samples if not s["noisy"]]
        used = clean or all_samples
        out[(impl, workload)] = {
            "ns": statistics.median(primary(impl, workload, s) for s in used),
            "rss_kb": statistics.median(s.get("rss_kb", 0.0) for s in used),
            "n": statistics.median(s["n"] for s in used),
            "clean": len(clean),
            "total": len(all_samples),
            "star": "" if clean else "*",
        }
        # echo: CPU µs per request of the whole process tree (server and load client, as the
        # '# noise' line counts it) and, where the RESULT line gives them, of each side.
        for key, field in (("tree_cpu_us", "self_cpu_s"), ("server_cpu_us", "server_cpu_us"),
                           ("client_cpu_us", "client_cpu_us")):
            values = [s[field] * (1e6 / s["n"] if field == "self_cpu_s" else 1)
                      for s in used if field in s]
            if values:
                out[(impl, workload)][key] = statistics.median(values)
    return out


def num(x):
    if abs(x) >= 100:
        return f"{x:,.0f}"
    if abs(x) >= 10:
        return f"{x:.1f}"
    return f"{x:.2f}"


def ratio(x):
    if x >= 10:
        return f"{x:.0f}×"
    if x >= 0.1:
        return f"{x:.2f}×"
    return f"{x:.2g}×"


def target(workload, ours, peer, floor, spawn=None):
    """(target text, met text) for BENCH.md's target row of the workload, or None."""
    ns, per_task = ours["ns"], ours["rss_kb"] * 1024 / ours["n"]

    def vs_floor(factor, variant):
        text = f"≤ {factor:g} × floor-{variant}"
        if floor is None:
            return text, "n/a: floor not run"
        r = ns / floor["ns"]
        return text, f"{'yes' if r <= factor else 'no'} ({ratio(r)})"

    def limits(*checks):
        ok = all(value <= limit for value, limit, _ in checks)
        return "yes" if ok else "no", ", ".join(shown for _, _, shown in checks)

    if workload == "spawn":
        text = "≤ 1.2 × floor-spawnq; ≤ 100 B/task"
        if floor is None:
            if per_task > 100:
                return text, f"no ({per_task:.0f} B/task; floor not run)"
            return text, f"n/a: floor not run ({per_task:.0f} B/task)"
        ok = ns / floor["ns"] <= 1.2 and per_task <= 100
        return text, f"{'yes' if ok else 'no'} ({ratio(ns / floor['ns'])}, {per_task:.0f} B/task)"
    if workload == "yield":
        return vs_floor(2, "readyq")
    if workload == "pingpong":
        return vs_floor(4, "readyq")
    if workload in ("cancel", "timeout"):
        return vs_floor(1.2, "throw")
    if workload == "sleepers":
        verdict, shown = limits((ns, 300, f"{num(ns)} ns"), (per_task, 150, f"{per_task:.0f} B/task"))
        return "overhead ≤ 300 ns; ≤ 150 B/task", f"{verdict} ({shown})"
    if workload == "wait_for":
        verdict, shown = limits((ns, 30, f"{num(ns)} ns"))
        return "≤ 30 ns", f"{verdict} ({shown})"
    if workload == "threadsafe":
        verdict, shown = limits((ns, 700, f"{num(ns)} ns"))
        return "≤ 700 ns", f"{verdict} ({shown})"
    if workload == "to_thread":
        text = "≤ 2 µs; ≥ 4 × faster than tokio"
        tokio = peer.get("tokio")
        if tokio is None:
            return text, f"n/a: tokio not run ({num(ns)} ns {'≤' if ns <= 2000 else '>'} 2 µs)"
        ok = ns <= 2000 and 4 * ns <= tokio["ns"]
        return text, f"{'yes' if ok else 'no'} ({num(ns)} ns, tokio ÷ ours {ratio(tokio['ns'] / ns)})"
    if workload == "taskgroup":
        text = "≤ 1.2 × our spawn; ≤ 150 B/task; ≤ 0.5 × tokio"
        checks = [f"{per_task:.0f} B/task"]
        ok = per_task <= 150
        if spawn is not None:
            ok = ok and ns <= 1.2 * spawn["ns"]
            checks.insert(0, f"{ratio(ns / spawn['ns'])} spawn")
        tokio = peer.get("tokio")
        if tokio is not None:
            ok = ok and ns <= 0.5 * tokio["ns"]
            checks.append(f"{ratio(ns / tokio['ns'])} tokio")
        return text, f"{'yes' if ok else 'no'} ({', '.join(checks)})"
    if workload in ("queue", "lock"):
        # queue: tokio's bounded mpsc; lock: tokio's Mutex (both current_thread).
        factor = 0.8 if workload == "queue" else 0.5
        text = f"≤ {factor:g} × tokio"
        tokio = peer.get("tokio")
        if tokio is None:
            return text, "n/a: tokio not run"
        r = ns / tokio["ns"]
        return text, f"{'yes' if r <= factor else 'no'} ({ratio(r)})"
    if workload == "echo":
        # The peers do not split their CPU between server and client: a peer's server CPU is
        # its process tree's less the client's, taken from our run (the same client, the same
        # work per request).
        text = "req/s ≥ best peer; server CPU/req ≤ 0.8 × tokio"
        if not peer:
            return text, "n/a: no peer run"
        best_name, best = min(peer.items(), key=lambda item: item[1]["ns"])
        fast = ns <= best["ns"]
        shown = [f"{1e9 / ns:,.0f} req/s, {best_name} {1e9 / best['ns']:,.0f}"]
        tokio, server, client = peer.get("tokio"), ours.get("server_cpu_us"), ours.get("client_cpu_us")
        lean = False
        if tokio and server is not None and client is not None and "tree_cpu_us" in tokio:
            tokio_server = tokio["tree_cpu_us"] - client
            lean = server <= 0.8 * tokio_server
            shown.append(f"server {server:.1f} µs/req, tokio ≈ {tokio_server:.1f}")
        else:
            shown.append("server CPU: tokio's not known")
        return text, f"{'yes' if fast and lean else 'no'} ({'; '.join(shown)})"
    if workload == "echo_conn":
        tokio = peer.get("tokio")
        if tokio is None:
            return "≤ 0.8 × tokio", "n/a: tokio not run"
        r = ns / tokio["ns"]
        return "≤ 0.8 × tokio", f"{'yes' if r <= 0.8 else 'no'} ({ratio(r)})"
    if workload == "subprocess":
        # BENCH.md: ahead of every peer that has the workload, in the same run; or, where libuv's
        # spawn is itself the floor, shown so by a bare uv_spawn loop (floor-uvspawn,
        # bench/subprocess_floor.cpp): within 1.1 × of it, this run's noise.
        text = "≤ fastest peer, or ≤ 1.1 × floor-uvspawn"
        if not peer:
            return text, "n/a: no peer run"
        best_name, best = min(peer.items(), key=lambda item: item[1]["ns"])
        r = ns / best["ns"]
        if r <= 1:
            return text, f"yes ({ratio(r)} {best_name}, the fastest peer)"
        shown = f"{ratio(r)} {best_name}, the fastest peer"
        if floor is None:
            return text, f"no ({shown}; floor-uvspawn not run)"
        rf = ns / floor["ns"]
        verdict = "yes, at libuv's floor" if rf <= 1.1 else "no"
        return text, f"{verdict} ({ratio(rf)} floor-uvspawn; {shown})"
    return None


def render(rows):
    """A markdown table whose columns are padded to line up in a terminal too."""
    widths = [max(len(row[i]) for row in rows) for i in range(len(rows[0]))]
    lines = []
    for k, row in enumerate(rows):
        lines.append("| " + " | ".join(c.ljust(w) for c, w in zip(row, widths)) + " |")
        if k == 0:
            lines.append("|" + "|".join("-" * (w + 2) for w in widths) + "|")
    return "\n".join(lines)


def main():
    if len(sys.argv) < 2:
        sys.exit(__doc__)
    samples, notes, failures = read(sys.argv[1:])
    med = medians(samples)

    floors = {impl[len("floor-"):]: m for (impl, _), m in med.items() if impl.startswith("floor-")}
    peers = {impl for impl, _ in med if impl != OURS and not impl.startswith("floor-")}
    peers = [p for p in PEER_ORDER if p in peers] + sorted(peers - set(PEER_ORDER))
    seen = {w for impl, w in med if not impl.startswith("floor-")}
    # Our failures read "FAILED run <k> asyncio <workload> rc=<rc>".
    seen |= {f.split()[4] for f in failures if f.split()[3:4] == [OURS] and len(f.split()) > 4}
    workloads = [w for w in WORKLOAD_ORDER if w in seen] + sorted(seen - set(WORKLOAD_ORDER))

    # Table 1: ours against each peer and the floor. Table 2: ours against BENCH.md's targets.
    speed = [["workload", "asyncio"] + peers + ["floor"]]
    goals = [["workload", "n", "runs", "asyncio ns/op", "asyncio RSS", "target", "met"]]
    verdicts = []
    for w in workloads:
        ours = med.get((OURS, w))
        peer = {p: med[(p, w)] for p in peers if (p, w) in med}
        label = w + {"sleepers": " (overhead)", "echo": " (ns/request)"}.get(w, "")
        variant = FLOOR.get(w)
        floor = floors.get(variant) if variant else None
        if ours is None:
            speed.append([label, "FAILED"] + [f"{num(peer[p]['ns'])}{peer[p]['star']}"
                                              if p in peer else "-" for p in peers]
                         + [f"{variant} {num(floor['ns'])}{floor['star']}" if floor else "-"])
            goals.append([label, "-", "0", "FAILED", "-", "-", "no run"])
            continue
        row = [label, num(ours["ns"]) + ours["star"]]
        for p in peers:
            m = peer.get(p)
            row.append("-" if m is None else f"{num(m['ns'])}{m['star']} ({ratio(ours['ns'] / m['ns'])})")
        if floor is None:
            row.append("-" if variant is None else f"{variant}: not run")
        else:
            row.append(f"{variant} {num(floor['ns'])}{floor['star']} ({ratio(ours['ns'] / floor['ns'])})")
        speed.append(row)

        rss = f"{ours['rss_kb'] / 1024:,.1f} MB"
        if w in PER_TASK_RSS:
            rss += f" ({ours['rss_kb'] * 1024 / ours['n']:,.0f} B/task)"
        t = target(w, ours, peer, floor, med.get((OURS, "spawn")))
        goals.append([label, f"{int(ours['n']):,}", f"{ours['clean']}/{ours['total']}",
                      num(ours["ns"]) + ours["star"], rss] + (list(t) if t else ["-", "-"]))
        if t:
            verdicts.append((w, t))

    print("Medians in ns per operation; for sleepers, the per-task overhead (seconds − 1 s) / N. "
          "A peer's or the floor's cell is its median (ours ÷ it): below 1, asyncio is faster. "
          "`*`: every sample was noisy (all used).\n")
    print(render(speed))
    print("\nTargets (BENCH.md). runs: clean samples / samples.\n")
    print(render(goals))
    if verdicts:
        met = [w for w, (_, v) in verdicts if v.startswith("yes")]
        print(f"\nTargets met: {len(met)} of {len(verdicts)}"
              + (f" ({', '.join(met)})" if met else "") + ".")
    noisy = [f"{i} {w} ({m['total'] - m['clean']} of {m['total']})"
             for (i, w), m in sorted(med.items()) if m["clean"] < m["total"]]
    if noisy:
        print("\nNoisy samples (left out of the medians unless `*`): " + ", ".join(noisy) + ".")
    if notes or failures:
        print("\nNotes:")
        for n in notes:
            print(f"- {n}")
        for f in failures:
            print(f"- {f}")


if __name__ == "__main__":
    main()
