"""The wrong-answer corpus: answers a learner plausibly gives, and the verdict each must get.

Every exercise has at least one right answer and two plausible wrong ones (a mistake a
learner really makes, not garbage): each wrong answer must be rejected with a hint that
names *that* mistake, and each right answer must pass. ``tests/checks/test_corpus.py``
holds every notebook's exercises to that.

A test module of the checks lists its answers and binds the test::

    CORPUS = [
        right("2.3", "one pool.map", lambda: (PAGES, trace_of(...))),
        wrong("2.3", "a loop of apply", run_loop_of_apply, hint="still calls apply"),
        wrong("2.3", "ThreadPool(2).map", run_two_workers, hint="4 workers"),
    ]
    test_corpus = corpus_test(nb02, CORPUS)

``answers`` is the tuple of arguments the notebook's check cell passes, or a function
returning it: code answers (a learner's cell) are run for real inside the function,
recorded with ``poolscope.record()`` where the check judges a trace.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from types import ModuleType
from typing import Any

import pytest


@dataclass(frozen=True)
class Answer:
    exercise: str  # "2.3"
    label: str  # what the learner did, in a few words
    answers: tuple | Callable[[], tuple]  # the check's arguments, or a function making them
    solved: bool
    # Wrong answers: text the feedback must contain, naming the real mistake. Right
    # answers: text the praise must contain ("" for none).
    says: str = ""

    @property
    def id(self) -> str:
        return f"{self.exercise} {'right' if self.solved else 'wrong'}: {self.label}"

    def arguments(self) -> tuple:
        made = self.answers() if callable(self.answers) else self.answers
        return made if isinstance(made, tuple) else (made,)


def right(exercise: str, label: str, answers: Any, praise: str = "") -> Answer:
    """A right answer: the check must say "solved!" (and ``praise``, if given)."""
    return Answer(exercise, label, answers, True, praise)


def wrong(exercise: str, label: str, answers: Any, hint: str) -> Answer:
    """A plausible wrong answer: rejected, with ``hint`` (naming the mistake) in the feedback."""
    if not hint:
        raise ValueError(f"wrong answer {label!r} of {exercise} needs the hint it must get")
    return Answer(exercise, label, answers, False, hint)


def check_of(module: ModuleType, exercise: str) -> Callable[..., bool]:
    """The check function of ``exercise`` ("2.3" -> ``module.ex2_3``)."""
    return getattr(module, "ex" + exercise.replace(".", "_"))


def corpus_test(module: ModuleType, corpus: list[Answer]):
    """A test over ``corpus``, for a test module to bind as ``test_corpus``."""

    @pytest.mark.parametrize("answer", corpus, ids=lambda a: a.id)
    def test_corpus(capsys, answer: Answer):
        check = check_of(module, answer.exercise)
        args = answer.arguments()
        capsys.readouterr()  # only what the check prints, not what the answer's code did
        ok = check(*args)
        out = capsys.readouterr().out
        assert out.isascii(), out
        if answer.solved:
            assert ok is True and "solved!" in out, out
            assert answer.says in out, f"the praise should say {answer.says!r}:\n{out}"
        else:
            assert ok is False and "not solved yet." in out, out
            assert "solved!" not in out
            assert answer.says in out, f"the hint should say {answer.says!r}:\n{out}"
        # quiet=True (the hidden tests' form) gives the same verdict and prints nothing.
        assert check(*args, quiet=True) is answer.solved
        assert capsys.readouterr().out == ""

    return test_corpus
