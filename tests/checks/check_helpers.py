"""Helpers the tests of the exercise checks share (``from check_helpers import run``).

A plain module next to the tests, like ``tests/core/invariants.py``: pytest's prepend
import mode puts this folder on ``sys.path``. ``conftest.py`` has pytest rewrite its
asserts, so a failing one says what it compared.
"""

from __future__ import annotations

import contextlib
import inspect
import threading

import pytest

import poolscope
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


def says_replace_the_dots(capsys, check, *args):
    """``check(*args)`` fails and asks for the ``...`` of the answer cell to be replaced."""
    ok, out = run(check, capsys, *args)
    assert ok is False
    assert "not solved yet (replace the ... with your answer)" in out


def empty_trace() -> Trace:
    """What the stub of an answer cell that records a trace leaves: a trace of nothing."""
    with poolscope.record() as trace:
        pass
    return trace


def garbage_never_raises(capsys, check, args):
    """``check(*args)`` with nonsense answers: feedback (none when quiet), no exception."""
    ok, out = run(check, capsys, *args)
    assert ok is False and "not solved yet." in out
    assert out.isascii()
    assert check(*args, quiet=True) is False
    assert capsys.readouterr().out == ""


def every_check_tests(checks, garbage, right=()):
    """The tests every check of a notebook gets, for its test module to bind:

        test_the_stub_says_replace_the_dots, test_garbage_never_raises = \\
            every_check_tests(CHECKS, GARBAGE)

    ``checks`` are ``(check, arity)`` pairs; each takes ``...``, then each of ``garbage``,
    for all its answers. ``right`` lists ``(check, answer)`` where an item of ``garbage``
    is the right answer to a one-answer check: that case is skipped.
    """
    by_number = {"ids": lambda c: getattr(c, "number", "")}

    @pytest.mark.parametrize("check, arity", checks, **by_number)
    def test_the_stub_says_replace_the_dots(capsys, check, arity):
        says_replace_the_dots(capsys, check, *([...] * arity))

    @pytest.mark.parametrize("check, arity", checks, **by_number)
    @pytest.mark.parametrize("junk", garbage, ids=repr)
    def test_garbage_never_raises(capsys, check, arity, junk):
        if any(check is c and type(junk) is type(a) and junk == a for c, a in right):
            pytest.skip("the right answer")
        garbage_never_raises(capsys, check, [junk] * arity)

    return test_the_stub_says_replace_the_dots, test_garbage_never_raises


def letter_question_tests(check, letter, praise, wrong, giveaways=()):
    """The tests of a multiple-choice check whose answer is ``letter``, for its test module
    to bind (``test_right, test_wrong_does_not_give_the_letter_away = ...``).

    Each spelling of the letter passes with ``praise`` in the feedback; each
    ``(answer, hint)`` of ``wrong`` fails with its hint, and with none of ``giveaways``.
    """
    spellings = [letter, letter.upper(), f" ({letter}) ", f"({letter.upper()})"]

    @pytest.mark.parametrize("answer", spellings)
    def test_right(capsys, answer):
        ok, out = run(check, capsys, answer)
        assert ok is True and praise in out

    @pytest.mark.parametrize("answer, hint", wrong)
    def test_wrong_does_not_give_the_letter_away(capsys, answer, hint):
        ok, out = run(check, capsys, answer)
        assert ok is False and not_yet(out, hint), out
        for giveaway in giveaways:
            assert giveaway not in out

    return test_right, test_wrong_does_not_give_the_letter_away


# -- answers that break naive feedback code ---------------------------------------------

class Broken:
    """An answer whose every special method raises: repr, str, ==, <, bool, len, iter, hash."""

    def _fail(self, *args):
        raise RuntimeError("a broken method")

    __repr__ = __str__ = __format__ = __bool__ = __len__ = __iter__ = __hash__ = _fail
    __eq__ = __ne__ = __lt__ = __le__ = __gt__ = __ge__ = _fail
    __float__ = __int__ = __index__ = __contains__ = __getitem__ = _fail


class BrokenError(Exception):
    """An exception (a plausible answer to "which exception?") whose str() raises."""

    def __str__(self):
        raise RuntimeError("a broken __str__")


def _recursive_list() -> list:
    items: list = [1]
    items.append(items)
    return items


def _recursive_dict() -> dict:
    table: dict = {1: "page 1"}
    table[2] = table
    return table


# Each must get feedback, never a traceback: a huge int (str() refuses it from 3.11 on),
# one inside a list, broken methods, recursive containers, a huge string, non-ASCII text.
NASTY = [10 ** 5000, -(10 ** 5000), [10 ** 5000, 1], Broken(), [Broken()], BrokenError(),
         _recursive_list(), _recursive_dict(), "x" * 1_000_000, "\u00e9t\u00e9 \u2713",
         float("inf"), b"\xff" * 3]
NASTY_IDS = ["huge int", "huge negative int", "list with a huge int", "broken methods",
             "list with a broken item", "exception with a broken str", "recursive list",
             "recursive dict", "huge string", "non-ASCII text", "inf", "bytes"]
MAX_FEEDBACK = 2_000  # characters: feedback stays short whatever the answer


def arity(check) -> int:
    """How many answers ``check`` (an :func:`exercise` function) takes."""
    params = inspect.signature(check.__wrapped__).parameters.values()
    return sum(p.default is p.empty and p.kind in (p.POSITIONAL_ONLY, p.POSITIONAL_OR_KEYWORD)
               for p in params)


def never_raises(capsys, check, args) -> str:
    """``check(*args)``: it returns a bool, prints short ASCII feedback, prints nothing
    with ``quiet=True``, and raises nothing. Returns what it printed."""
    ok = check(*args)
    out = capsys.readouterr().out
    assert isinstance(ok, bool)
    assert out.startswith("Exercise ") and out.isascii(), out[:MAX_FEEDBACK]
    assert len(out) <= MAX_FEEDBACK, out[:MAX_FEEDBACK]
    assert check(*args, quiet=True) is ok
    assert capsys.readouterr().out == ""
    return out


def nasty_answers_never_raise(capsys, check, junk, right=None):
    """``junk`` for every answer of ``check``, then in each place with the others from
    ``right`` (the right answers, if given; ``None`` otherwise): never solved, never a
    traceback, short ASCII feedback. For a test module to call over :data:`NASTY`."""
    n = arity(check)
    others = list(right) if right is not None else [None] * n
    for args in [[junk] * n] + [others[:i] + [junk] + others[i + 1:] for i in range(n)]:
        out = never_raises(capsys, check, args)
        assert "not solved yet" in out, out


def recorded(cell):
    """Run ``cell`` (a learner's answer cell, as a function returning its answer) while
    recording, as ``%%timeline --out NAME`` does: ``(answer, trace)``.

    For the corpus: ``right("2.3", "one map", lambda: recorded(one_map))``.
    """
    with poolscope.record() as trace:
        answer = cell()
    return answer, trace


@contextlib.contextmanager
def noted_thread_deaths():
    """Note the exceptions that kill threads in a list, instead of printing them (as the
    notebook's thread_deaths())."""
    died: list[str] = []
    usual = threading.excepthook
    threading.excepthook = lambda args: died.append(args.exc_type.__name__)
    try:
        yield died
    finally:
        threading.excepthook = usual


def uncommented_stub(source: str, grade_id: str) -> str:
    """The commented-out code of an exercise cell's stub (``source``, before its
    solution), uncommented as a learner would."""
    stub = source.split("### BEGIN SOLUTION")[0]
    lines = [line[2:] if line.startswith("# ") else "" for line in stub.splitlines()
             if line.startswith("#") and not line.startswith("# Exercise")]
    assert lines, f"{grade_id}: no commented-out code in the stub"
    return "\n".join(lines)
