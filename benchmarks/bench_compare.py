"""The claims of notebooks 14 and 15, measured side by side: ThreadPool, ThreadPoolExecutor and a
spawned process Pool on the same jobs.

    python benchmarks/bench_compare.py               # 10 rounds
    python benchmarks/bench_compare.py --rounds 3    # a quick look

Each round runs, one pool after the other and in the notebook's way (recorded, the process
pool started and waited for with a Barrier before its first task):
(a) IO: 8 tasks of time.sleep(0.2) on 4 workers: makespan, and makespan - ideal makespan;
(b) CPU: 4 crunch() tasks of ~0.1 s of CPU on 2 workers: makespan, the most tasks computing
    at the same moment (computing_at_once), utilisation, and Pool's makespan / ThreadPool's;
(c) start-up: a ThreadPool(4) (best of 3) and a spawned Pool(4) until all workers are up,
    and what a task of each reads from compare_workloads.STATE once the caller changed it.
It prints the median and range of each figure, and how many rounds gave each of the
notebook's verdicts: the strictly compared ones must hold in every round; those marked
"ignored" are in cells nbval does not compare. Ratios come from runs made side by side,
so a busy machine slows both sides; but no measurement can show two processes computing
at once when other programs keep the cores busy (Linux's autogroup scheduling also gives
each busy session an equal share of the CPUs, so one busy terminal can leave a notebook's
kernel one core): the notebook therefore does not check the process pool's figures, and
the load average is printed with the results.
"""

from __future__ import annotations

import argparse
import multiprocessing
import os
import statistics
import threading
import time
from concurrent.futures import ThreadPoolExecutor
from multiprocessing.pool import ThreadPool

import poolscope
from poolscope.tutorial import compare_workloads
from poolscope.tutorial.compare_workloads import computing_at_once, crunch, loops_for

SPAWN = multiprocessing.get_context("spawn")
KINDS = ("ThreadPool", "ThreadPoolExecutor", "Pool")


def run_on(kind: str, fn, items: list, workers: int):
    """Record ``fn`` mapped over ``items`` on a pool of ``kind``: (trace, results)."""
    with poolscope.record() as trace:
        if kind == "ThreadPool":
            with ThreadPool(workers) as pool:
                results = pool.map(fn, items)
        elif kind == "ThreadPoolExecutor":
            with ThreadPoolExecutor(workers) as executor:
                results = list(executor.map(fn, items))
        else:
            ready = SPAWN.Barrier(workers + 1)
            with SPAWN.Pool(workers, initializer=ready.wait) as pool:
                ready.wait(timeout=60)
                results = pool.map(fn, items)
    return trace, results


def time_to_start(make_pool, ready) -> tuple[float, str]:
    """Seconds until the pool's 4 workers are up, and what a task then reads from STATE."""
    start = time.perf_counter()
    with make_pool(4, initializer=ready.wait) as pool:
        ready.wait(timeout=60)
        seconds = time.perf_counter() - start
        return seconds, pool.apply(compare_workloads.state)


def one_round(n: int) -> dict[str, float]:
    out: dict[str, float] = {}
    for kind in KINDS:
        s = run_on(kind, time.sleep, [0.2] * 8, 4)[0].summary()
        out[f"io {kind} makespan"] = s.makespan if s.completed == 8 else float("inf")
        out[f"io {kind} over the ideal (s)"] = s.makespan - s.ideal_makespan
    for kind in KINDS:
        trace, marks = run_on(kind, crunch, [n] * 4, 2)
        s = trace.summary()
        out[f"cpu {kind} makespan"] = s.makespan
        out[f"cpu {kind} at once"] = computing_at_once(marks)
        out[f"cpu {kind} utilisation"] = s.utilisation
    out["cpu Pool/ThreadPool makespan"] = (out["cpu Pool makespan"]
                                           / out["cpu ThreadPool makespan"])
    threads, threads_see = min(time_to_start(ThreadPool, threading.Barrier(5))
                               for _ in range(3))
    processes, processes_see = time_to_start(SPAWN.Pool, SPAWN.Barrier(5))
    out["start-up Pool/ThreadPool"] = processes / threads
    out["start-up STATE seen as the notebook says"] = float(
        threads_see == "changed by the caller" and processes_see == "as imported")
    return out


# The notebook's verdicts, as functions of one round's figures.
THREADS = ("ThreadPool", "ThreadPoolExecutor")
VERDICTS = {
    "io: each ran its 8 tasks in under 0.8 s": lambda r: all(
        r[f"io {k} makespan"] < 0.8 for k in KINDS),
    "cpu: thread pools compute 1 at once": lambda r: all(
        r[f"cpu {k} at once"] == 1 for k in THREADS),
    "cpu: thread pools' workers busy (> 80%)": lambda r: all(
        r[f"cpu {k} utilisation"] > 0.8 for k in THREADS),
    "start-up: STATE as the notebook says": lambda r: (
        r["start-up STATE seen as the notebook says"] == 1),
    "(ignored) io: all three within 0.15 s of the ideal": lambda r: all(
        abs(r[f"io {k} over the ideal (s)"]) < 0.15 for k in KINDS),
    "(ignored) cpu: Pool computes 2 at once": lambda r: r["cpu Pool at once"] == 2,
    "(ignored) cpu: Pool's workers busy (> 80%)": lambda r: r["cpu Pool utilisation"] > 0.8,
    "(ignored) start-up: Pool over 3x ThreadPool": lambda r: r["start-up Pool/ThreadPool"] > 3,
}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--rounds", type=int, default=10)
    args = parser.parse_args()
    if args.rounds < 1:
        parser.error("--rounds must be at least 1")
    n = loops_for(0.1)
    compare_workloads.STATE = "changed by the caller"
    load = os.getloadavg()[0]
    rounds = [one_round(n) for _ in range(args.rounds)]
    print(f"{args.rounds} rounds on {os.cpu_count()} CPUs; load average {load:.1f} before, "
          f"{os.getloadavg()[0]:.1f} after")
    for key in rounds[0]:
        values = sorted(r[key] for r in rounds)
        print(f"  {key:<42} median {statistics.median(values):7.2f}   "
              f"range {values[0]:.2f} - {values[-1]:.2f}")
    print("the notebook's verdicts (those marked ignored are in cells nbval does not compare):")
    for name, verdict in VERDICTS.items():
        print(f"  {name:<44} {sum(verdict(r) for r in rounds)} of {args.rounds} rounds")


if __name__ == "__main__":
    main()
