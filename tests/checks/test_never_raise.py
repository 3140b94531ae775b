"""No answer makes a check raise: every check of every notebook, given answers that break
naive feedback code (huge ints, broken methods, recursive lists, ...), prints short ASCII
feedback and returns False (see ``check_helpers.NASTY``).

A notebook's own test module can call ``nasty_answers_never_raise`` with its right
answers too, to reach the code behind the first test of each answer.
"""

from __future__ import annotations

import importlib
import pkgutil
from pathlib import Path

import pytest

import poolscope.tutorial.checks
from poolscope.tutorial.checks import _feedback

from check_helpers import NASTY, NASTY_IDS, Broken, arity, nasty_answers_never_raise


def every_check() -> list:
    """``(module name, check)`` for each exercise check of each ``checks.nbNN`` module."""
    found = []
    for info in pkgutil.iter_modules(poolscope.tutorial.checks.__path__):
        if info.name.startswith("nb"):
            module = importlib.import_module(f"poolscope.tutorial.checks.{info.name}")
            found += [(info.name, f) for f in vars(module).values()
                      if callable(f) and hasattr(f, "number") and hasattr(f, "__wrapped__")
                      and f.__module__ == module.__name__]
    return sorted(found, key=lambda pair: [int(x) for x in pair[1].number.split(".")])


CHECKS = every_check()


def test_every_notebook_has_checks():
    notebooks = Path(__file__).resolve().parents[2] / "notebooks"
    numbers = {p.name[:2] for p in notebooks.glob("[0-9][0-9]-*.ipynb")}
    assert numbers and {name for name, _ in CHECKS} >= {f"nb{n}" for n in numbers}


@pytest.mark.parametrize("junk", NASTY, ids=NASTY_IDS)
@pytest.mark.parametrize("check", [c for _, c in CHECKS], ids=lambda c: c.number)
def test_nasty_answers_never_raise(capsys, check, junk):
    nasty_answers_never_raise(capsys, check, junk)


def test_the_feedback_shows_what_str_cannot():
    assert _feedback.shown(10 ** 5000) == "<an int of about 5000 digits>"
    assert _feedback.shown([10 ** 5000]) == "[<an int of about 5000 digits>]"
    assert _feedback.shown(Broken()).startswith("<Broken instance at ")
    assert len(_feedback.shown("x" * 10 ** 6)) < 100
    recursive: list = []
    recursive.append(recursive)
    assert "..." in _feedback.shown(recursive)


def test_a_check_that_fails_unexpectedly_is_reported_not_raised(capsys):
    @_feedback.exercise("9.9", "Broken on purpose")
    def broken_check(answer):
        raise BrokenErrorInCheck()

    class BrokenErrorInCheck(Exception):
        def __str__(self):
            raise RuntimeError("no str")

    assert broken_check(1) is False
    out = capsys.readouterr().out
    assert "the check could not use your answer: BrokenErrorInCheck" in out


def test_the_helper_can_fail(capsys):
    # A check that lets an answer's exception escape: the shared test must catch it.
    def leaky(answer):
        raise RuntimeError("escaped")

    leaky.__wrapped__ = lambda answer: None  # what arity() reads
    with pytest.raises(RuntimeError):
        nasty_answers_never_raise(capsys, leaky, 1)
    assert arity(leaky) == 1
