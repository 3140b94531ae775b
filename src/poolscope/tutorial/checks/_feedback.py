"""The machinery behind every exercise check: formatting, and never raising.

A check function returns normally when the answer is right (optionally a short
explanation string), or raises :class:`NotYet` with what was expected, what was got
and a hint; :func:`exercise` turns both into printed feedback and a bool.

Nothing a learner can put in an answer makes the feedback itself raise: values are shown
with :func:`shown`, which copes with huge ints, broken ``__repr__`` methods and
recursive lists, and any other failure becomes a line of feedback.
"""

from __future__ import annotations

import functools
import math
import reprlib
from collections.abc import Callable
from typing import Any

MAX_LINE = 300  # characters of an exception's message shown in feedback
MAX_TEXT = 600  # characters of any line of feedback (a check may quote a huge answer)


class _SafeRepr(reprlib.Repr):
    """reprlib's short reprs, with a placeholder where a value cannot be shown.

    reprlib already survives a ``__repr__`` that raises, but not an int beyond the
    int-to-str limit (``ValueError``, from 3.11 on), alone or inside a list.
    """

    def repr1(self, x: Any, level: int) -> str:
        try:
            return super().repr1(x, level)
        except Exception:
            return _placeholder(x)


def _placeholder(x: Any) -> str:
    if isinstance(x, int):  # too many digits for str(): say how many instead
        digits = max(1, math.floor(abs(x).bit_length() * math.log10(2)))
        return f"<an int of about {digits} digits>"
    return f"<a {type(x).__name__} that cannot be shown>"


_repr = _SafeRepr()
_repr.maxlist = _repr.maxtuple = 12
_repr.maxstring = _repr.maxother = 70


def shown(value: Any) -> str:
    """A short repr of ``value`` for feedback; it never raises.

    >>> shown(list(range(20)))
    '[0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, ...]'
    >>> shown(10 ** 5000)
    '<an int of about 5000 digits>'
    """
    try:
        return _repr.repr(value)
    except Exception:  # e.g. a type whose __name__ lookup itself fails
        return "<a value that cannot be shown>"


def described(exc: BaseException) -> str:
    """``"ValueError: message"`` for feedback, short; it never raises.

    >>> described(ValueError("x" * 500))[:20], len(described(ValueError("x" * 500)))
    ('ValueError: xxxxxxxx', 300)
    """
    name = type(exc).__name__
    try:
        text = f"{name}: {exc}"
    except Exception:  # an exception whose __str__ raises
        text = name
    return text if len(text) <= MAX_LINE else text[:MAX_LINE - 3] + "..."


class NotYet(Exception):
    """Raised inside a check: the answer is not right yet."""

    def __init__(self, message: str = "", *, expected: Any = None, got: Any = None,
                 hint: str = "", show: bool = True):
        super().__init__(message)
        self.message, self.expected, self.got, self.hint, self.show = (
            message, expected, got, hint, show)


def _ascii(text: str) -> str:
    return text.encode("ascii", "replace").decode("ascii")


def _short(line: str) -> str:
    return line if len(line) <= MAX_TEXT else line[:MAX_TEXT - 3] + "..."


def _lines(exc: NotYet) -> list[str]:
    lines = [f"  {exc.message}"] if exc.message else []
    if exc.show:
        lines += [f"  expected: {shown(exc.expected)}", f"  got:      {shown(exc.got)}"]
    if exc.hint:
        lines.append(f"  hint: {exc.hint}")
    return lines


def _verdict(head: str, check: Callable[..., Any], args: tuple, kwargs: dict,
             stub_note: Callable[..., Any] | None = None) -> tuple[list[str], bool]:
    """Run ``check`` and word its verdict: ``(lines, solved)``. Never raises."""
    if any(a is Ellipsis for a in (*args, *kwargs.values())):
        lines = [f"{head}: not solved yet (replace the ... with your answer)."]
        try:
            note = stub_note(*args, **kwargs) if stub_note is not None else None
        except Exception:  # the note is a bonus: without it the feedback stands
            note = None
        return lines + ([f"  {note}"] if isinstance(note, str) and note else []), False
    try:
        try:
            note = check(*args, **kwargs)
        except NotYet as exc:
            return [f"{head}: not solved yet."] + _lines(exc), False
        return [f"{head}: solved!"] + ([f"  {note}"] if note else []), True
    except Exception as exc:  # a check never raises: report instead
        return [f"{head}: not solved yet.",
                f"  the check could not use your answer: {described(exc)}"], False


def exercise(number: str, title: str, stub_note: Callable[..., Any] | None = None
             ) -> Callable[[Callable[..., Any]], Callable[..., bool]]:
    """Decorate a check: ``check(answer, ..., quiet=False) -> bool``, printing feedback.

    ``quiet=True`` prints nothing (for nbgrader's hidden ``assert`` lines). While an
    answer is still ``...``, ``stub_note(*answers)`` may add a line: a cell that raised
    before it set its answer can still have left a trace that says why.
    """
    head = f"Exercise {number} - {title}"

    def decorate(check: Callable[..., Any]) -> Callable[..., bool]:
        @functools.wraps(check)
        def run(*args: Any, quiet: bool = False, **kwargs: Any) -> bool:
            lines, ok = _verdict(head, check, args, kwargs, stub_note)
            if not quiet:
                print(_ascii("\n".join(map(_short, lines))))
            return ok

        run.number, run.title = number, title  # type: ignore[attr-defined]
        return run

    return decorate


def expect(got: Any, expected: Any, hint: str = "", message: str = "",
           explain: str = "") -> str:
    """Raise :class:`NotYet` unless ``got == expected``; return ``explain`` if it does."""
    try:
        same = bool(got == expected)
    except Exception:
        same = False
    if not same:
        raise NotYet(message, expected=expected, got=got, hint=hint)
    return explain


def expect_true(condition: Any, message: str, hint: str = "", explain: str = "") -> str:
    """Raise :class:`NotYet` with ``message`` unless ``condition`` holds."""
    if not condition:
        raise NotYet(message, hint=hint, show=False)
    return explain


def expect_letter(answer: Any, right: str, hints: dict[str, str]) -> str:
    """Check a multiple-choice ``answer`` ("d", "(D)", ...) against the letter ``right``;
    a wrong letter gets its hint from ``hints``, never the right letter.

    >>> expect_letter(" (D) ", "d", {})
    'd'
    >>> expect_letter("a", "d", {"a": "it does not return quietly"})
    Traceback (most recent call last):
    ...
    poolscope.tutorial.checks._feedback.NotYet: (a) is not what happens
    """
    letters = sorted({right, *hints})
    letter = answer.strip().strip("()").lower() if isinstance(answer, str) else answer
    if letter not in letters:
        quoted = ", ".join(f'"{x}"' for x in letters[:-1]) + f' or "{letters[-1]}"'
        raise NotYet(f"answer should be one of the letters {quoted}", expected=quoted,
                     got=answer, hint="write the letter as a string, in quotes")
    if letter != right:  # the feedback does not give the letter away
        raise NotYet(f"({letter}) is not what happens", hint=hints[letter], show=False)
    return letter
