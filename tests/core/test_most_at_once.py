"""The one "most running at once" sweep (``poolscope.summary.most_at_once``).

Convention (the one every caller used before the copies were merged): an interval runs
from its start up to its end; one that ends exactly when another starts does not overlap
it, and an interval of no length adds nothing.
"""

from __future__ import annotations

import random

import pytest

from poolscope.summary import most_at_once


def brute_force(intervals):
    """The most intervals containing some instant t (start <= t < end), trying every start."""
    return max((sum(a <= t < b for a, b in intervals) for t, _ in intervals), default=0)


@pytest.mark.parametrize("intervals, expected", [
    ([], 0),
    ([(0.0, 1.0)], 1),
    ([(0.0, 2.0), (1.0, 3.0)], 2),  # overlapping
    ([(0.0, 1.0), (1.0, 2.0)], 1),  # touching: end == start is not overlapping
    ([(0.0, 1.0), (1.0, 2.0), (2.0, 3.0)], 1),  # back to back on one worker
    ([(0.0, 4.0), (1.0, 2.0), (1.5, 3.0)], 3),  # nested
    ([(0.0, 1.0), (0.0, 1.0), (0.0, 1.0)], 3),  # identical
    ([(1.0, 1.0)], 0),  # no length
    ([(0.0, 5.0), (2.0, 2.0), (2.0, 4.0)], 2),  # one of no length among others
    ([(2.0, 3.0), (0.0, 1.0), (0.5, 2.5)], 2),  # any order
])
def test_most_at_once(intervals, expected):
    assert most_at_once(intervals) == expected
    assert most_at_once(iter(intervals)) == expected  # any iterable, read once


def test_agrees_with_brute_force_on_random_intervals():
    rng = random.Random(12)
    for _ in range(300):
        intervals = []
        for _ in range(rng.randrange(0, 8)):
            a = rng.randrange(0, 10) / 2  # coarse: many touching and shared ends
            intervals.append((a, a + rng.randrange(1, 6) / 2))
        assert most_at_once(intervals) == brute_force(intervals), intervals
