"""The ``%%timeline`` cell magic: record a cell's thread pools and show the timeline.

    %load_ext poolscope

    %%timeline --tick 0.1
    with ThreadPool(2) as pool:
        pool.map(time.sleep, [0.2] * 4)

prints the text timeline, then displays the trace (the timeline image, or in a
terminal its one-line summary). Options: ``--tick SECONDS`` (text timeline),
``--no-plot`` (text only), ``--out NAME`` (keep the trace in variable ``NAME``).
If the cell raises, the timeline so far is shown, then the cell fails with the cell's own
exception (shown once), like any other cell.
"""

from __future__ import annotations

import gc
from typing import Any


def _magics_class():
    # IPython is imported only when the extension is loaded.
    from IPython.core.magic import Magics, cell_magic, magics_class
    from IPython.core.magic_arguments import argument, magic_arguments, parse_argstring

    @magics_class
    class TimelineMagics(Magics):
        @magic_arguments()
        @argument("--tick", type=float, default=0.1,
                  help="seconds per character of the text timeline (default 0.1)")
        @argument("--no-plot", action="store_true", help="print the text timeline only")
        @argument("--out", metavar="NAME", help="store the trace in this variable")
        @cell_magic
        def timeline(self, line: str, cell: str) -> None:
            """Record the ThreadPools this cell creates and show their timeline."""
            from ._options import tick_problem

            args = parse_argstring(self.timeline, line)
            problem = tick_problem("--tick", args.tick)
            if problem:  # before the cell runs: a bad option never costs a run
                raise ValueError(problem)
            if _awaits(self.shell, cell):
                # A magic runs its cell synchronously, inside the kernel's running event
                # loop: an awaiting cell would fail with "event loop is already running".
                raise ValueError("%%timeline cannot run a cell that uses await; record it "
                                 "with `with poolscope.record() as trace:` and "
                                 "print(trace.text())")
            from IPython.display import display

            from .recording import record
            from .render.notebook import summary_line
            from .render.text import MAX_COLUMNS

            # A full garbage collection stops every thread; in a kernel holding matplotlib
            # figures it took 0.2-0.35 s under load, enough to shift a text timeline by a
            # tick. Collect now, outside the recording, so one is unlikely inside it.
            gc.collect()
            with record() as trace:
                error = _run_quietly(self.shell, cell)
            if args.out:
                self.shell.user_ns[args.out] = trace
            snap = trace.snapshot()  # one look for the text, the picture, the summary
            # A long cell at a fine tick is cut (with a note), never an error after it ran.
            print(snap.text(tick=args.tick, width=MAX_COLUMNS))
            if args.no_plot:
                print(summary_line(snap.data()))
            else:
                display(snap)
            if error is not None:
                # The cell fails like any other cell (so "Run All" stops here), with
                # its own exception, shown once, after the timeline so far.
                raise error

    return TimelineMagics


def _awaits(shell: Any, cell: str) -> bool:
    """True when ``cell`` uses top-level ``await`` (IPython would run it in its loop)."""
    try:
        transformed = shell.transform_cell(cell)
    except Exception:  # the cell itself reports its syntax error when it runs
        return False
    return bool(shell.should_run_async(cell, transformed_cell=transformed,
                                       preprocessing_exc_tuple=None))


def _run_quietly(shell: Any, cell: str) -> BaseException | None:
    """Run ``cell`` like a cell (its output and last value shown) and return its
    exception instead of showing the traceback, which the magic re-raises once."""
    quiet = ("showtraceback", "showsyntaxerror")
    saved = {name: vars(shell).get(name) for name in quiet}
    for name in quiet:
        setattr(shell, name, lambda *args, **kwargs: None)
    try:
        result = shell.run_cell(cell)
    finally:
        for name, value in saved.items():
            if value is None:
                delattr(shell, name)  # back to the class's method
            else:
                setattr(shell, name, value)
    return result.error_before_exec or result.error_in_exec


def load_ipython_extension(ipython: Any) -> None:
    """``%load_ext poolscope`` (re-exported by the package): registers ``%%timeline``."""
    ipython.register_magics(_magics_class())
