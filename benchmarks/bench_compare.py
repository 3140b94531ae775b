"""The claims of notebooks 14 (ThreadPool and ThreadPoolExecutor) and 15 (process pools),
measured side by side: ThreadPool, ThreadPoolExecutor and a spawned process Pool on the same
jobs.

    python benchmarks/bench_compare.py               # 10 rounds
    python benchmarks/bench_compare.py --rounds 3    # a quick look

Each round runs, one pool after the other and in the notebook's way (recorded, the process
pool started and waited for with a Barrier before its first task):
(a) IO: 8 tasks of time.sleep(0.2) on 4 workers: makespan, and makespan - ideal makespan;
(b) CPU: 4 crunch() tasks of ~0.1 s of CPU on 2 workers: makespan, the most tasks computing
    at the same moment (computing_at_once), utilisation, and Pool's makespan / ThreadPool's;
(c) start-up: a ThreadPool(4) (best of 3) and a spawned Pool(4) until all workers are up,
    and what a task of each reads from compare_workloads.STATE once the caller changed it;
(d) terminate (15): 4 tasks of 0.5 s on 2 workers, the with block left after 0.2 s, then
    join(): how many tasks ran their full 0.5 s, and whether join() returned before 0.5 s;
(e) cancel (14): 8 tasks of 0.2 s on a ThreadPoolExecutor(2), shutdown(cancel_futures=True)
    after the first result: exercise 14.3's check must say solved, and how many started.
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
from concurrent.futures import ThreadPoolExecutor, as_completed
from multiprocessing.pool import ThreadPool

import poolscope
from poolscope.tutorial import compare_workloads
from poolscope.tutorial.checks import nb14
from poolscope.tutorial.compare_workloads import computing_at_once, crunch, loops_for
from poolscope.tutorial.workloads import sleep_task

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


def stopped(kind: str) -> tuple[int, bool]:
    """Notebook 15's terminate() cells: (tasks that ran their full 0.5 s, whether join()
    returned within 0.45 s of the first task's start)."""
    with poolscope.record() as trace:
        if kind == "Pool":
            ready = SPAWN.Barrier(3)
            with SPAWN.Pool(2, initializer=ready.wait) as pool:
                ready.wait(timeout=60)
                for _ in range(4):
                    pool.apply_async(sleep_task, (0.5,))
                time.sleep(0.2)
        else:
            with ThreadPool(2) as pool:
                for _ in range(4):
                    pool.apply_async(sleep_task, (0.5,))
                time.sleep(0.2)
        pool.join()
    terminated = next(e.start for e in trace.events if e.kind == "terminate")
    joined = next(e.end for e in trace.events if e.kind == "join")
    running = [t for t in trace.tasks if t.started is not None and t.started < terminated]
    full = sum(t.outcome != "killed" and t.finished - t.started > 0.45 for t in running)
    first = min((t.started for t in running), default=terminated)
    return full, joined < first + 0.45


def cancelled() -> tuple[bool, int]:
    """Exercise 14.3's solution: (the check's verdict, how many tasks started)."""
    with poolscope.record() as trace:
        with ThreadPoolExecutor(2) as executor:
            futures = [executor.submit(sleep_task, 0.2) for _ in range(8)]
            first = next(as_completed(futures)).result()
            executor.shutdown(cancel_futures=True)
    return nb14.ex14_3(first, trace, quiet=True), sum(t.started is not None for t in trace.tasks)


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
    for kind in ("Pool", "ThreadPool"):
        full, early = stopped(kind)
        out[f"stop {kind} tasks run in full"] = full
        out[f"stop {kind} join() before 0.5 s"] = float(early)
    solved, started = cancelled()
    out["cancel: 14.3's check solved"] = float(solved)
    out["cancel: tasks started of 8"] = started
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
    "stop: 0 / 2 tasks ran in full (Pool / ThreadPool)": lambda r: (
        r["stop Pool tasks run in full"] == 0 and r["stop ThreadPool tasks run in full"] == 2),
    "stop: join() early for Pool only": lambda r: (
        r["stop Pool join() before 0.5 s"] == 1 and r["stop ThreadPool join() before 0.5 s"] == 0),
    "cancel: 14.3's check says solved": lambda r: r["cancel: 14.3's check solved"] == 1,
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
    print("the notebooks' verdicts (those marked ignored are in cells nbval does not compare):")
    for name, verdict in VERDICTS.items():
        print(f"  {name:<52} {sum(verdict(r) for r in rounds)} of {args.rounds} rounds")


if __name__ == "__main__":
    main()
