"""Command line: ``python -m poolscope COMMAND ...`` (see ``--help``).

    python -m poolscope demo --workers 4 --tasks 12 --duration 0.2 --method imap

Adding a command is one function: write ``add_NAME(subparsers)`` that adds its parser
and sets ``run=`` to a function ``run(args) -> int``, and list it in ``COMMANDS``.
A user error raises :class:`UsageError`, printed as one line, exit status 2.
"""

from __future__ import annotations

import argparse
import math
import os
import sys
import tempfile
from collections.abc import Callable
from pathlib import Path

from .authoring import nav, student


class UsageError(Exception):
    """A bad argument found after parsing; reported like argparse's own errors."""


class _Parser(argparse.ArgumentParser):
    def error(self, message: str):  # type: ignore[override]
        # One line, no usage block: "poolscope demo: error: ...".
        self.exit(2, f"{self.prog}: error: {message}\n")


def _whole(text: str) -> int:
    # Only parsing here: the limits are the playground's (Experiment.validate), checked
    # in run_demo, so the command line and the playground accept the same settings.
    try:
        return int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected a whole number, got {text!r}") from None


def _number(text: str) -> float:
    try:
        return float(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected seconds, got {text!r}") from None


def add_demo(subparsers) -> None:
    from .tutorial._experiment import MAX_SECONDS, MAX_TASKS, MAX_WORKERS
    from .tutorial.workloads import METHODS

    p = subparsers.add_parser(
        "demo", help="run a demo workload on a ThreadPool and show its timeline",
        description="Run TASKS tasks of DURATION seconds through a ThreadPool method, "
                    "print the text timeline and summary, and save the timeline as PNG. "
                    f"The limits are the playground's: at most {MAX_WORKERS} workers and "
                    f"{MAX_TASKS:,} tasks, about {MAX_SECONDS:.0f} s of work.",
        epilog="example: python -m poolscope demo --workers 2 --tasks 8 --method imap "
               "--chunksize 2 --chrome trace.json")
    p.add_argument("--workers", type=_whole, default=4, help="pool size (default 4)")
    p.add_argument("--tasks", type=_whole, default=12, help="number of tasks (default 12)")
    p.add_argument("--duration", type=_number, default=0.2,
                   help="seconds per task (default 0.2)")
    p.add_argument("--method", choices=METHODS, default="map", metavar="METHOD",
                   help=f"pool method: {', '.join(METHODS)} (default map)")
    p.add_argument("--chunksize", type=_whole, default=None,
                   help="items per task for the map/imap/starmap family (default: the pool's)")
    p.add_argument("--work", choices=("sleep", "cpu"), default="sleep",
                   help="sleep (waits like I/O) or cpu (pure-Python arithmetic, holds the GIL)")
    p.add_argument("--output", default="timeline.png", metavar="PNG",
                   help="where to save the timeline image (default timeline.png)")
    p.add_argument("--tick", type=_number, default=0.1,
                   help="seconds per character of the text timeline (default 0.1)")
    p.add_argument("--chrome", metavar="JSON", help="also write a Chrome/Perfetto trace")
    p.set_defaults(run=run_demo)


# A text timeline row longer than this cannot be read (the default tick draws at most
# 600 characters for the longest run allowed).
MAX_TEXT_COLUMNS = 1_000


def check_demo(args: argparse.Namespace) -> None:
    """Raise :class:`UsageError` for the first problem of the demo's arguments: the
    playground's limits, the tick, and output paths that cannot be written. Runs
    before the workload, so a bad argument never costs a run."""
    from ._options import tick_problem
    from .tutorial._experiment import Experiment

    experiment = Experiment(workers=args.workers, tasks=args.tasks, duration=args.duration,
                            work="io" if args.work == "sleep" else "cpu",
                            method=args.method, chunksize=args.chunksize)
    problems = experiment.validate()
    if problems:
        raise UsageError("; ".join(problems))
    problem = tick_problem("tick", args.tick)
    if problem:
        raise UsageError(problem)
    seconds = experiment.estimate()
    columns = math.ceil(seconds / args.tick)
    if columns > MAX_TEXT_COLUMNS:
        raise UsageError(f"--tick {args.tick:g} is too fine for a run of about {seconds:.0f} s: "
                         f"rows of {columns:,} characters (at most {MAX_TEXT_COLUMNS:,}); "
                         f"use --tick {math.ceil(seconds / MAX_TEXT_COLUMNS * 1000) / 1000:g} "
                         "or more")
    for path in (args.output, args.chrome):
        if path is not None:
            problem = _unwritable(path)
            if problem:
                raise UsageError(f"cannot write {path}: {problem}")


def _unwritable(path: str) -> str | None:
    """Why ``path`` cannot be written, or None. The directory is tried for real (a
    temporary file made and removed): permission bits do not tell what root, a
    read-only mount or an immutable directory allow."""
    target = Path(path)
    if target.is_dir():
        return "it is a directory"
    folder = target.parent
    if not folder.exists():
        return f"no directory {folder}"
    if not folder.is_dir():
        return f"{folder} is not a directory"
    if target.exists() and not os.access(target, os.W_OK):
        return "permission denied"
    try:
        with tempfile.TemporaryFile(dir=folder):
            pass
    except OSError as e:
        return e.strerror or str(e)
    return None


def run_demo(args: argparse.Namespace) -> int:
    from .tutorial.workloads import run_demo as record_demo

    check_demo(args)
    trace = record_demo(args.workers, args.tasks, args.duration, args.method,
                        args.chunksize, args.work)
    print(trace.text(tick=args.tick))
    print()
    print(trace.summary())
    _write(args.output, lambda path: _save_png(trace, path))
    if args.chrome:
        _write(args.chrome, trace.to_chrome_trace)
    return 0


def _save_png(trace, path: str) -> None:
    from .render.notebook import png

    with open(path, "wb") as f:
        f.write(png(trace))


def _write(path: str, write: Callable[[str], object]) -> None:
    try:
        write(path)
    except OSError as e:  # checked before the run; a disk can still fill up
        raise UsageError(f"cannot write {path}: {e.strerror or e}") from None
    print(f"wrote {path}")


COMMANDS: list[Callable] = [add_demo, student.add_parser, nav.add_parser]


def main(argv: list[str] | None = None) -> int:
    parser = _Parser(prog="poolscope",
                     description="See what a multiprocessing.pool.ThreadPool really does.")
    sub = parser.add_subparsers(title="commands", metavar="COMMAND", dest="command",
                                required=True)
    for add in COMMANDS:
        add(sub)
    args = parser.parse_args(argv)
    try:
        return args.run(args)
    except UsageError as e:
        sub.choices[args.command].error(str(e))  # exits with status 2
        raise  # not reached


if __name__ == "__main__":
    sys.exit(main())
