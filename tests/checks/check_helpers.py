"""Helpers the tests of the exercise checks share (``from check_helpers import run``).

A plain module next to the tests, like ``tests/core/invariants.py``: pytest's prepend
import mode puts this folder on ``sys.path``. ``conftest.py`` has pytest rewrite its
asserts, so a failing one says what it compared.
"""

from __future__ import annotations

from poolscope.trace import PoolInfo, Trace, Worker


def run(check, capsys, *args):
    """Call ``check(*args)``: ``(what it returned, what it printed)``."""
    ok = check(*args)
    return ok, capsys.readouterr().out


def not_yet(out: str, hint: str) -> bool:
    return "not solved yet." in out and hint in out


def on_one_pool(tasks: list, size: int) -> Trace:
    """A trace of ``tasks`` on one ThreadPool of ``size`` workers named w0, w1, ..."""
    workers = [Worker(0, k, f"w{k}", 0.0) for k in range(size)]
    return Trace.from_records(tasks, workers=workers, pools=[PoolInfo(0, "ThreadPool", size, 0.0)])


def garbage_in_each_place_never_raises(capsys, check, right, junk):
    """``junk`` in place of each of the ``right`` answers in turn: feedback, no exception."""
    for position in range(len(right)):
        args = list(right)
        args[position] = junk
        ok, out = run(check, capsys, *args)
        assert ok is False
        assert "not solved yet" in out
        assert out.isascii()


def garbage_everywhere_never_raises(capsys, check, junk):
    """``junk`` for both answers: feedback (none when quiet), no exception."""
    ok, out = run(check, capsys, junk, junk)
    assert ok is False and "not solved yet" in out
    assert out.isascii()
    assert check(junk, junk, quiet=True) is False
    assert capsys.readouterr().out == ""
