"""Exercise checks: friendly feedback for the notebooks' exercises.

One module per notebook (``nb02`` for ``02-Submit-and-Block.ipynb``, ...), each a set of
:func:`exercise` functions. A check prints plain-ASCII feedback (what was expected, what
was got, a hint), returns True when solved, and never raises: a learner's mistake is
feedback, not a traceback.

    >>> from poolscope.tutorial.checks import exercise, expect
    >>> @exercise("0.1", "Say hello")
    ... def check_hello(answer):
    ...     return expect(answer, "hello", hint="a greeting, in lower case")
    >>> check_hello("hello")
    Exercise 0.1 - Say hello: solved!
    True
    >>> check_hello(...)
    Exercise 0.1 - Say hello: not solved yet (replace the ... with your answer).
    False
"""

from __future__ import annotations

from ._feedback import NotYet, exercise, expect, expect_true

__all__ = ["NotYet", "exercise", "expect", "expect_true"]
