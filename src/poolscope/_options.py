"""Checking options: numbers within ranges, whole numbers, choices. One message format.

Every message is one line naming the option, what it must be (kind and range) and what
was given, so a learner can fix the call from the message alone:

    >>> number("tick", 0, 0.001, 60, seconds=True)
    Traceback (most recent call last):
    ValueError: tick must be a number of seconds from 0.001 to 60 (got 0)
    >>> number("workers", 2.5, 1, 64, whole=True)
    Traceback (most recent call last):
    ValueError: workers must be a whole number from 1 to 64 (got 2.5)
    >>> choice("labels", "some", ("auto", "always", "never"))
    Traceback (most recent call last):
    ValueError: labels must be one of 'auto', 'always', 'never' (got 'some')
    >>> number("chunksize", None, 1, whole=True, none=True) is None
    True

A number of the wrong type (a string, ``True``, ``nan``) is a ``ValueError`` like one out
of range: both are a bad value for a number option, and callers catch one exception.
``instance`` raises ``TypeError`` for an object of the wrong kind altogether. The
``*_problem`` functions return the message (None when fine) for code that gathers every
problem before saying anything (the playground's ``Experiment.validate``).
"""

from __future__ import annotations

import math
from collections.abc import Iterable
from typing import TypeVar

T = TypeVar("T")

# Seconds per character of a text timeline (the command line's and %%timeline's
# --tick): finer than a millisecond is below what a loaded machine can show.
MIN_TICK, MAX_TICK = 0.001, 60.0


def shown(value: object) -> str:
    """How a given value appears in a message: short, and never failing.

        >>> shown(10_000), shown(1e-06), shown(0.0), shown(0.1234567), shown("x")
        ('10,000', '1e-06', '0', '0.1234567', "'x'")
        >>> shown(10 ** 5000)
        'a number of 16,610 bits'
    """
    if isinstance(value, int) and not isinstance(value, bool):
        if value.bit_length() > 200:  # a huge int: its repr is slow or refused (3.11+)
            return f"a number of {value.bit_length():,} bits"
        return f"{value:,}"
    if isinstance(value, float) and (math.isnan(value) or float(f"{value:g}") == value):
        return f"{value:g}"  # 0.0 -> 0, 1e-09, 1e+06: short, and exact
    text = repr(value)
    return text if len(text) <= 60 else text[:57] + "..."


def _bound(x: float) -> str:
    return f"{x:,}" if isinstance(x, int) else f"{x:g}"


def _wanted(low: float | None, high: float | None, whole: bool, seconds: bool,
            above: bool, none: bool) -> str:
    kind = "a whole number" if whole else "a number of seconds" if seconds else "a number"
    if low is not None and high is not None:
        span = f" above {_bound(low)}, up to {_bound(high)}" if above else \
            f" from {_bound(low)} to {_bound(high)}"
    elif low is not None:
        span = f" {'>' if above else '>='} {_bound(low)}"
    elif high is not None:
        span = f" <= {_bound(high)}"
    else:
        span = ""
    return kind + span + (", or None" if none else "")


def number_problem(name: str, value: object, low: float | None = None,
                   high: float | None = None, *, whole: bool = False, seconds: bool = False,
                   above: bool = False, none: bool = False) -> str | None:
    """What is wrong with ``value`` as option ``name`` (None if nothing).

    A number (int or float, never bool; finite), ``whole``: an int; from ``low`` to
    ``high`` (either may be None: no bound), ``above``: strictly above ``low``;
    ``none``: None is allowed too; ``seconds`` only changes the wording.

        >>> number_problem("interval", 1e6, 0.01, 60, seconds=True)
        'interval must be a number of seconds from 0.01 to 60 (got 1e+06)'
        >>> number_problem("trickle", 0, 0, 60, seconds=True, above=True)
        'trickle must be a number of seconds above 0, up to 60 (got 0)'
        >>> number_problem("tasks", 1_001, 1, 1_000, whole=True)
        'tasks must be a whole number from 1 to 1,000 (got 1,001)'
    """
    if none and value is None:
        return None
    kinds = (int,) if whole else (int, float)
    ok = not isinstance(value, bool) and isinstance(value, kinds)
    if ok and not whole:
        ok = math.isfinite(value)  # type: ignore[arg-type]
    if ok and low is not None:
        ok = value > low if above else value >= low  # type: ignore[operator]
    if ok and high is not None:
        ok = value <= high  # type: ignore[operator]
    if ok:
        return None
    return f"{name} must be {_wanted(low, high, whole, seconds, above, none)} (got {shown(value)})"


def number(name: str, value: T, low: float | None = None, high: float | None = None,
           **kind: bool) -> T:
    """``value`` if it is a good number for option ``name``; else ``ValueError`` (see
    :func:`number_problem` for the keywords)."""
    problem = number_problem(name, value, low, high, **kind)
    if problem:
        raise ValueError(problem)
    return value


def choice_problem(name: str, value: object, choices: Iterable[object]) -> str | None:
    """What is wrong with ``value`` as option ``name`` that takes one of ``choices``.

        >>> choice_problem("show_wait", 1.5, (True, False))
        'show_wait must be one of True, False (got 1.5)'
    """
    choices = tuple(choices)
    if any(_equal(value, c) for c in choices):  # `in`, as before (so 1 counts as True)
        return None
    return f"{name} must be one of {', '.join(map(repr, choices))} (got {shown(value)})"


def _equal(a: object, b: object) -> bool:
    try:
        return a is b or bool(a == b)
    except Exception:  # an object whose == raises is not one of the choices
        return False


def choice(name: str, value: T, choices: Iterable[object]) -> T:
    """``value`` if it is one of ``choices``; else ``ValueError`` naming them."""
    problem = choice_problem(name, value, choices)
    if problem:
        raise ValueError(problem)
    return value


def instance(name: str, value: T, types: type | tuple[type, ...], wanted: str) -> T:
    """``value`` if it is an instance of ``types``; else ``TypeError``: "``name`` must be
    ``wanted`` (got ...)".

        >>> instance("stop_event", True, type(None), "a threading.Event or None")
        Traceback (most recent call last):
        TypeError: stop_event must be a threading.Event or None (got True)
    """
    if not isinstance(value, types):
        raise TypeError(f"{name} must be {wanted} (got {shown(value)})")
    return value


def tick_problem(name: str, tick: object) -> str | None:
    """The text timeline's ``--tick``: seconds per character, from 1 ms to a minute."""
    return number_problem(name, tick, MIN_TICK, MAX_TICK, seconds=True)
