"""The GIL, measured side by side: one thread against a pool, for each kind of task.

    python benchmarks/bench_gil.py            # 7 rounds
    python benchmarks/bench_gil.py --quick    # 3 rounds

Each round runs the baseline (the tasks one after another on ``ThreadPool(1)``) and the
pool being measured back to back, in alternating order, and the ratio reported is the
median over rounds of baseline time / pool time, so background load hits both sides
alike. The tasks are those of ``09-The-GIL.ipynb`` (``poolscope.tutorial.gil_workloads``), four
per run, each calibrated to about 0.1 s on one idle thread. "cores busy" is the CPU
seconds the tasks used per elapsed second (``time.thread_time()`` in each task; for the
process pool and for BLAS, ``time.process_time()`` of the processes involved).

A last table (a reference, with no target) times hashing alone and beside a busy
pure-Python thread, fed in big pieces or in small ones that each let go of the GIL (the
quirk of 3.11-3.14 that notebook 09 warns about).

The expectations follow from the number of cores ``n``: waits overlap (about as many
times faster as there are threads), pure-Python work does not speed up on threads,
GIL-releasing work speeds up to about ``min(threads, n)`` (0.75 of that is accepted).
They hold on an idle machine; run it when nothing else is busy.
"""

from __future__ import annotations

import argparse
import functools
import hashlib
import multiprocessing
import statistics
import sys
import threading
import time
from collections.abc import Callable
from multiprocessing.pool import ThreadPool

from poolscope.tutorial import gil_workloads as gw

TASKS = 4


def timed_map(pool, task: Callable, items: list) -> tuple[float, float]:
    """Seconds for ``pool.map(task, items)``, and the CPU seconds its tasks used."""
    start = time.perf_counter()
    out = pool.map(_cpu_timed, [(task, x) for x in items], chunksize=1)
    return time.perf_counter() - start, sum(out)


def _cpu_timed(job: tuple[Callable, object]) -> float:
    # Module-level (not a closure) so that the process pool can pickle it.
    task, item = job
    start = time.thread_time()
    task(item)
    return time.thread_time() - start


def pieces_1k(mib: int) -> str:
    """SHA-256 of ``mib`` MiB fed 1 KiB per update(): below hashlib's 2 KiB, the GIL stays held."""
    h = hashlib.sha256()
    view = memoryview(gw._mebibyte())
    for _ in range(mib):
        for start in range(0, len(view), 1024):
            h.update(view[start:start + 1024])
    return h.hexdigest()


def hash_in_pieces(data: bytes, piece: int, first: int = 0) -> str:
    """SHA-256 of ``data``: one update() of ``first`` bytes (if any), then ``piece`` at a time."""
    h = hashlib.sha256()
    view = memoryview(data)
    if first:
        h.update(view[:first])
    for start in range(first, len(view), piece):
        h.update(view[start:start + piece])
    return h.hexdigest()


def beside_a_busy_thread(call: Callable[[], object]) -> float:
    """Seconds for ``call()`` while another thread runs pure Python all along."""
    stop = threading.Event()

    def busy() -> None:
        while not stop.is_set():
            gw.python_work(1000)

    thread = threading.Thread(target=busy)
    thread.start()
    try:
        time.sleep(0.02)  # the busy thread is running
        start = time.perf_counter()
        call()
        return time.perf_counter() - start
    finally:
        stop.set()
        thread.join()


def small_releases(rounds: int) -> list[str]:
    """Hashing 16 MiB alone and beside a busy pure-Python thread, for three ways of
    feeding hashlib: each release of the GIL costs a hand-over when another thread
    wants it, so many small releases (the quirk of 3.11-3.14: small updates after one
    big one) make the hashing far slower than a few big ones."""
    data = bytes(16 * gw.MIB)
    ways = [("1 MiB pieces", 2**20, 0),
            ("1 KiB pieces after one 4 KiB piece", 1024, 4096),
            ("1 KiB pieces (the GIL held)", 1024, 0)]
    lines = [f"{'hashing 16 MiB (reference, no target)':44} {'alone s':>8} {'beside s':>9}"]
    for name, piece, first in ways:
        call = functools.partial(hash_in_pieces, data, piece, first)
        alone = statistics.median(_seconds(call) for _ in range(rounds))
        beside = statistics.median(beside_a_busy_thread(call) for _ in range(rounds))
        lines.append(f"{name:44} {alone:8.3f} {beside:9.3f}")
    return lines


def _seconds(call: Callable[[], object]) -> float:
    start = time.perf_counter()
    call()
    return time.perf_counter() - start


def paired(task: Callable, items: list, make_pool: Callable, rounds: int) -> dict:
    """Median baseline time, pool time, speed-up and cores busy over ``rounds`` pairs."""
    base, other, ratios, cores = [], [], [], []
    for i in range(rounds):
        got = {}
        for which in (("base", "pool") if i % 2 == 0 else ("pool", "base")):
            pool = ThreadPool(1) if which == "base" else make_pool()
            try:
                pool.map(_cpu_timed, [(gw.python_work, 1)] * 4)  # started and warm
                got[which] = timed_map(pool, task, items)
            finally:
                pool.close()
                pool.join()
        base.append(got["base"][0])
        other.append(got["pool"][0])
        ratios.append(got["base"][0] / got["pool"][0])
        cores.append(got["pool"][1] / got["pool"][0])
    return {"base": statistics.median(base), "pool": statistics.median(other),
            "speedup": statistics.median(ratios), "cores": statistics.median(cores)}


def blas_cores(rounds: int) -> float:
    """Cores busy (process CPU / elapsed) during one 1500 x 1500 matrix product."""
    import numpy as np

    a = gw.random_array(1500 * 1500).reshape(1500, 1500)
    a @ a  # BLAS starts its threads
    return statistics.median(gw.cores_busy(np.matmul, a, a) for _ in range(rounds))


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="3 rounds instead of 7")
    args = parser.parse_args(argv)
    rounds = 3 if args.quick else 7
    n = gw.default_pool_size()
    print(f"CPython {sys.version.split()[0]}, {n} usable cores, GIL enabled: "
          f"{gw.gil_enabled()}, {time.strftime('%Y-%m-%d %H:%M')}, median of {rounds} rounds")
    loops = gw.calibrate(gw.python_work, 0.1)
    mib = gw.calibrate(gw.hash_work, 0.1)
    kib_mib = gw.calibrate(pieces_1k, 0.1)
    repeats = gw.calibrate(gw.sort_work, 0.1)
    spawn = multiprocessing.get_context("spawn")
    rows = [
        # name, task, item, pool factory, threads, expected speed-up (low, high)
        ("sleep 0.1 s", time.sleep, 0.1, lambda: ThreadPool(4), 4, (0.9 * 4, None)),
        ("socket wait 0.1 s (gw.fetch)", gw.fetch, 0.1, lambda: ThreadPool(4), 4,
         (0.9 * 4, None)),
        ("pure Python, 2 threads", gw.python_work, loops, lambda: ThreadPool(2), 2,
         (None, 1.15)),
        ("pure Python, 4 threads", gw.python_work, loops, lambda: ThreadPool(4), 4,
         (None, 1.15)),
        ("hashlib 1 MiB updates, 2 threads", gw.hash_work, mib, lambda: ThreadPool(2), 2,
         (0.75 * min(2, n), None)),
        ("hashlib 1 MiB updates, 4 threads", gw.hash_work, mib, lambda: ThreadPool(4), 4,
         (0.75 * min(4, n), None)),
        ("hashlib 1 KiB updates, 2 threads", pieces_1k, kib_mib, lambda: ThreadPool(2), 2,
         (None, 1.15)),
        ("numpy sort, 2 threads", gw.sort_work, repeats, lambda: ThreadPool(2), 2,
         (0.75 * min(2, n), None)),
        ("numpy sort, 4 threads", gw.sort_work, repeats, lambda: ThreadPool(4), 4,
         (0.75 * min(4, n), None)),
        ("pure Python, 2 processes (spawn)", gw.python_work, loops, lambda: spawn.Pool(2), 2,
         (0.75 * min(2, n), None)),
    ]
    ok = True
    print(f"{'workload (4 tasks of ~0.1 s)':36} {'1 thread s':>10} {'pool s':>7} "
          f"{'speed-up':>8} {'cores busy':>10}  expected")
    for name, task, item, make_pool, _threads, (low, high) in rows:
        r = paired(task, [item] * TASKS, make_pool, rounds)
        met = (low is None or r["speedup"] >= low) and (high is None or r["speedup"] <= high)
        ok &= met
        want = f">= {low:.2f}" if low is not None else f"<= {high:.2f}"
        print(f"{name:36} {r['base']:10.3f} {r['pool']:7.3f} {r['speedup']:8.2f} "
              f"{r['cores']:10.2f}  {want}{'' if met else '  MISSED'}")
    print(f"one numpy matrix product (1500 x 1500), cores busy: {blas_cores(rounds):.2f} "
          f"(BLAS threads of its own; reference, no target)")
    print("\n".join(small_releases(rounds)))
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
