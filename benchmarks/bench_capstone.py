"""The capstone's tuning figures (17-Capstone.ipynb), measured side by side.

    python benchmarks/bench_capstone.py            # 5 rounds
    python benchmarks/bench_capstone.py --quick    # 2 rounds

40 pages from a local poolscope.tutorial.server (0.1 s a page, at most 10 served at once),
fetched with ``ThreadPool(workers).map(fetch, urls, chunksize)`` for each setting the
notebook shows. Each round runs every setting back to back, in a shuffled order, and
reports its makespan as a ratio to the reference setting (10 workers, chunksize 1) of
the same round; the median over rounds is printed next to the ratio the notebook's
reasoning predicts (pages of the busiest worker, or rounds of the server's slots).
Background load stretches every setting of a round alike, so the ratios stay put where
raw seconds would not. The HTTP overhead per request (a few ms) shows as ratios a little
off the predicted ones.
"""

from __future__ import annotations

import argparse
import random
import statistics
import sys
import time
from multiprocessing.pool import ThreadPool
from urllib.request import urlopen

from poolscope.tutorial.server import serve

REFERENCE = (10, 1)
# (workers, chunksize): what the notebook predicts, relative to 4 rounds of 0.1 s
SETTINGS = {
    (2, None): 20 / 4,   # 20 pages per worker
    (8, None): 6 / 4,    # chunks of 2: the busiest worker fetches 6
    (8, 1): 5 / 4,
    (10, 1): 1.0,
    (10, 5): 5 / 4,      # 8 chunks of 5 pages
    (20, 1): 1.0,        # the server serves 10 at once: still 4 rounds
    (40, 1): 1.0,
}


def fetch(url: str) -> str:
    with urlopen(url, timeout=5) as response:
        return response.read().decode()


def makespan(urls: list[str], workers: int, chunksize: int | None) -> float:
    start = time.perf_counter()
    with ThreadPool(workers) as pool:
        pool.map(fetch, urls, chunksize)
    return time.perf_counter() - start


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--quick", action="store_true", help="2 rounds instead of 5")
    args = parser.parse_args(argv)
    rounds = 2 if args.quick else 5
    ratios: dict[tuple, list[float]] = {s: [] for s in SETTINGS}
    with serve(latency=0.1, limit=10, pages=40) as server:
        urls = [server.url(f"/page/{n}") for n in range(40)]
        fetch(urls[0])  # warm up (imports, first connection)
        for _ in range(rounds):
            order = list(SETTINGS)
            random.shuffle(order)
            seconds = {s: makespan(urls, *s) for s in order}
            for s in SETTINGS:
                ratios[s].append(seconds[s] / seconds[REFERENCE])
    print(f"makespan / makespan of {REFERENCE[0]} workers, chunksize {REFERENCE[1]} "
          f"(median of {rounds} rounds)")
    print(f"{'workers':>8} {'chunksize':>10} {'measured':>9} {'predicted':>10}")
    for (workers, chunksize), predicted in SETTINGS.items():
        measured = statistics.median(ratios[(workers, chunksize)])
        print(f"{workers:>8} {str(chunksize):>10} {measured:>9.2f} {predicted:>10.2f}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
