"""Command line: ``python -m poolscope COMMAND ...`` (see ``--help``).

    python -m poolscope demo --workers 4 --tasks 12 --duration 0.2 --method imap

Adding a command is one function: write ``add_NAME(subparsers)`` that adds its parser
and sets ``run=`` to a function ``run(args) -> int``, and list it in ``COMMANDS``.
A user error raises :class:`UsageError`, printed as one line, exit status 2.
"""

from __future__ import annotations

import argparse
import math
import sys
from collections.abc import Callable

from .authoring import nav, student


class UsageError(Exception):
    """A bad argument found after parsing; reported like argparse's own errors."""


class _Parser(argparse.ArgumentParser):
    def error(self, message: str):  # type: ignore[override]
        # One line, no usage block: "poolscope demo: error: ...".
        self.exit(2, f"{self.prog}: error: {message}\n")


def _at_least(low: int) -> Callable[[str], int]:
    def parse(text: str) -> int:
        try:
            value = int(text)
        except ValueError:
            raise argparse.ArgumentTypeError(f"expected a whole number, got {text!r}") from None
        if value < low:
            raise argparse.ArgumentTypeError(f"must be at least {low}, got {value}")
        return value
    return parse


def _seconds(positive: bool) -> Callable[[str], float]:
    def parse(text: str) -> float:
        try:
            value = float(text)
        except ValueError:
            raise argparse.ArgumentTypeError(f"expected seconds, got {text!r}") from None
        if not math.isfinite(value) or value < 0 or (positive and value == 0):
            raise argparse.ArgumentTypeError(
                f"must be {'more than' if positive else 'at least'} 0 seconds, got {text}")
        return value
    return parse


def add_demo(subparsers) -> None:
    from .workloads import METHODS

    p = subparsers.add_parser(
        "demo", help="run a demo workload on a ThreadPool and show its timeline",
        description="Run TASKS tasks of DURATION seconds through a ThreadPool method, "
                    "print the text timeline and summary, and save the timeline as PNG.",
        epilog="example: python -m poolscope demo --workers 2 --tasks 8 --method imap "
               "--chunksize 2 --chrome trace.json")
    p.add_argument("--workers", type=_at_least(1), default=4, help="pool size (default 4)")
    p.add_argument("--tasks", type=_at_least(1), default=12, help="number of tasks (default 12)")
    p.add_argument("--duration", type=_seconds(False), default=0.2,
                   help="seconds per task (default 0.2)")
    p.add_argument("--method", choices=METHODS, default="map", metavar="METHOD",
                   help=f"pool method: {', '.join(METHODS)} (default map)")
    p.add_argument("--chunksize", type=_at_least(1), default=None,
                   help="items per task for the map/imap/starmap family (default: the pool's)")
    p.add_argument("--work", choices=("sleep", "cpu"), default="sleep",
                   help="sleep (waits like I/O) or cpu (pure-Python arithmetic, holds the GIL)")
    p.add_argument("--output", default="timeline.png", metavar="PNG",
                   help="where to save the timeline image (default timeline.png)")
    p.add_argument("--tick", type=_seconds(True), default=0.1,
                   help="seconds per character of the text timeline (default 0.1)")
    p.add_argument("--chrome", metavar="JSON", help="also write a Chrome/Perfetto trace")
    p.set_defaults(run=run_demo)


def run_demo(args: argparse.Namespace) -> int:
    from .workloads import run_demo as record_demo

    if args.chunksize is not None and args.method in ("apply", "apply_async"):
        raise UsageError(f"--chunksize cannot be used with --method {args.method} "
                         "(it sends one task per call)")
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
    except OSError as e:
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
