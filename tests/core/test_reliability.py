"""No record lost or duplicated: 1,000,000 items over 32 workers, every submit method,
1% of the tasks raising. The expected outcome of every item is worked out
independently from the chunking rules (an exception skips the rest of its chunk)."""

from __future__ import annotations

from collections import Counter
from multiprocessing.pool import ThreadPool

import pytest
from helpers import chunk_outcomes
from invariants import check_invariants
from proc_tasks import fail_every_hundredth as task
from proc_tasks import star_fail_every_hundredth as star_task

import poolscope
from poolscope import trace as T

WORKERS = 32


def default_chunksize(n):
    chunksize, extra = divmod(n, WORKERS * 4)
    return chunksize + bool(extra)


# call -> (items, chunksize passed, chunksize used); 1,000,000 items in all
PLAN = {
    "map": (400_000, None, default_chunksize(400_000)),
    "map_async": (200_000, None, default_chunksize(200_000)),
    "starmap": (150_000, None, default_chunksize(150_000)),
    "starmap_async": (150_000, 1000, 1000),
    "imap": (50_000, 50, 50),
    "imap_unordered": (40_000, 1, 1),
    "apply_async": (5_000, None, 1),
    "apply": (5_000, None, 1),
}


def test_a_million_items_every_method_one_percent_failing():
    assert sum(n for n, _, _ in PLAN.values()) == 1_000_000
    with poolscope.record() as trace:
        pool = ThreadPool(WORKERS)
        with pytest.raises(ValueError):
            pool.map(task, range(PLAN["map"][0]))
        pool.map_async(task, range(PLAN["map_async"][0]))
        with pytest.raises(ValueError):
            pool.starmap(star_task, [(x,) for x in range(PLAN["starmap"][0])])
        pool.starmap_async(star_task, [(x,) for x in range(PLAN["starmap_async"][0])], 1000)
        pool.imap(task, range(PLAN["imap"][0]), chunksize=50)
        pool.imap_unordered(task, range(PLAN["imap_unordered"][0]))
        for x in range(PLAN["apply_async"][0]):
            pool.apply_async(task, (x,))
        for x in range(PLAN["apply"][0]):
            try:
                pool.apply(task, (x,))
            except ValueError:
                pass
        pool.close()
        pool.join()
    tasks = trace.tasks
    assert len(tasks) == 1_000_000
    check_invariants(trace)
    for call, (n, _, chunksize) in PLAN.items():
        got = Counter(t.outcome for t in tasks if t.call == call)
        assert got == chunk_outcomes(n, chunksize), call
        if call.startswith("apply"):  # one call per item, each item index 0
            ids = {t.call_id for t in tasks if t.call == call and t.index == 0}
            assert len(ids) == n, call
        else:
            indexes = sorted(t.index for t in tasks if t.call == call)
            assert indexes == list(range(n)), call
    failed = [t for t in tasks if t.outcome == T.FAILED]
    assert len(failed) == sum(chunk_outcomes(n, c)[T.FAILED] for n, _, c in PLAN.values())
    assert all(t.error == f"ValueError: item {t.index}" for t in failed
               if not t.call.startswith("apply"))
    assert all(int(t.error.rsplit(" ", 1)[1]) % 100 == 0 for t in failed)
    assert len({t.lane for t in tasks if t.lane is not None}) == WORKERS
