"""The machinery behind every exercise check: formatting, and never raising.

A check function returns normally when the answer is right (optionally a short
explanation string), or raises :class:`NotYet` with what was expected, what was got
and a hint; :func:`exercise` turns both into printed feedback and a bool.
"""

from __future__ import annotations

import functools
import reprlib
from collections.abc import Callable
from typing import Any

_repr = reprlib.Repr()
_repr.maxlist = _repr.maxtuple = 12
_repr.maxstring = _repr.maxother = 70


class NotYet(Exception):
    """Raised inside a check: the answer is not right yet."""

    def __init__(self, message: str = "", *, expected: Any = None, got: Any = None,
                 hint: str = "", show: bool = True):
        super().__init__(message)
        self.message, self.expected, self.got, self.hint, self.show = (
            message, expected, got, hint, show)


def _ascii(text: str) -> str:
    return text.encode("ascii", "replace").decode("ascii")


def _lines(exc: NotYet) -> list[str]:
    lines = [f"  {exc.message}"] if exc.message else []
    if exc.show:
        lines += [f"  expected: {_repr.repr(exc.expected)}", f"  got:      {_repr.repr(exc.got)}"]
    if exc.hint:
        lines.append(f"  hint: {exc.hint}")
    return lines


def exercise(number: str, title: str) -> Callable[[Callable[..., Any]], Callable[..., bool]]:
    """Decorate a check: ``check(answer, ..., quiet=False) -> bool``, printing feedback.

    ``quiet=True`` prints nothing (for nbgrader's hidden ``assert`` lines).
    """
    head = f"Exercise {number} - {title}"

    def decorate(check: Callable[..., Any]) -> Callable[..., bool]:
        @functools.wraps(check)
        def run(*args: Any, quiet: bool = False, **kwargs: Any) -> bool:
            if any(a is Ellipsis for a in (*args, *kwargs.values())):
                lines, ok = [f"{head}: not solved yet (replace the ... with your answer)."], False
            else:
                try:
                    note = check(*args, **kwargs)
                    lines, ok = [f"{head}: solved!"] + ([f"  {note}"] if note else []), True
                except NotYet as exc:
                    lines, ok = [f"{head}: not solved yet."] + _lines(exc), False
                except Exception as exc:  # a check never raises: report instead
                    lines = [f"{head}: not solved yet.",
                             f"  the check could not use your answer: "
                             f"{type(exc).__name__}: {exc}"]
                    ok = False
            if not quiet:
                print(_ascii("\n".join(lines)))
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
    poolscope.checks._feedback.NotYet: (a) is not what happens
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
