"""The student edition: the notebooks without solutions and hidden tests.

    python -m poolscope student notebooks student

Each ``### BEGIN SOLUTION`` ... ``### END SOLUTION`` region becomes ``# YOUR CODE HERE``
(the stub lines before it stay) and each ``### BEGIN HIDDEN TESTS`` ... ``### END HIDDEN
TESTS`` region goes. Unlike ``nbgrader generate_assignment`` no ``raise
NotImplementedError()`` is added: the student edition runs top to bottom and every check
says "not solved yet". Exercise and check cells lose their outputs, exercise cells their
folding, every cell its nbgrader metadata and the ``exercise``/``check`` tags; cells
tagged ``answer`` (a written answer) or ``instructor`` (notes for instructors) are left
out. Other files next to the notebooks (data, figures) are copied, except
instructor-only ones and files git ignores (build products). The edition is written into
a temporary directory beside OUT_DIR and renamed into place once complete, so a failed
run leaves no half edition (an earlier one stays as it was); source files are only read.

    >>> clear_regions("x = ...\\n### BEGIN SOLUTION\\nx = 42\\n### END SOLUTION")
    ('x = ...\\n# YOUR CODE HERE', 1, 0)
"""

from __future__ import annotations

import argparse
import copy
import os
import shutil
import subprocess
import tempfile
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

from ._common import (AuthoringError, add_command, dumps, main_of, read, set_action, tags,
                      write_text)

if TYPE_CHECKING:
    from nbformat import NotebookNode

PROG = "poolscope student"
CODE_STUB, TEXT_STUB = "# YOUR CODE HERE", "YOUR ANSWER HERE"  # nbgrader's stubs
GRADED_TAGS = {"exercise", "check"}        # removed from the cells that carry them
LEFT_OUT_TAGS = {"answer", "instructor"}   # cells with these tags are left out
# Files next to the notebooks that only authors and instructors use.
INSTRUCTOR_ONLY = {"sanitize.cfg", "AUTHORING.md", "INSTRUCTORS.md", "nbgrader_config.py",
                   "gradebook.db"}
SKIPPED_DIRS = {"__pycache__", ".ipynb_checkpoints"}
# Written into OUT_DIR so a later run knows it may replace that directory.
STAMP = ".poolscope-student"

# Matched as nbgrader matches them: anywhere in a line, so nbgrader and this tool
# always agree on where a region starts and ends. END before BEGIN is irrelevant:
# no marker contains another.
_MARKERS = {"BEGIN SOLUTION": ("solution", True), "END SOLUTION": ("solution", False),
            "BEGIN HIDDEN TESTS": ("hidden tests", True),
            "END HIDDEN TESTS": ("hidden tests", False)}


@dataclass
class Summary:
    """What one run wrote."""

    notebooks: int = 0
    solutions: int = 0
    hidden_tests: int = 0
    copied: int = 0

    def __str__(self) -> str:
        return (f"{self.notebooks} notebooks, {self.solutions} solutions and "
                f"{self.hidden_tests} hidden tests removed, {self.copied} other files copied")


def _marker(line: str) -> tuple[str, bool] | None:
    for text, found in _MARKERS.items():
        if text in line:
            return found
    return None


def clear_regions(source: str, code: bool = True) -> tuple[str, int, int]:
    """Return ``(source, solutions, hidden_tests)`` with the marked regions replaced.

    Raises :class:`AuthoringError` (naming the line) when the markers do not pair up.
    """
    kept: list[str] = []
    inside: str | None = None  # the kind of region being skipped
    solutions = hidden = 0
    for number, line in enumerate(source.split("\n"), 1):
        found = _marker(line)
        if found is None:
            if inside is None:
                kept.append(line)
            continue
        kind, begin = found
        if begin and inside is not None:
            raise AuthoringError(f"line {number}: BEGIN {kind.upper()} inside a {inside} region")
        if not begin and inside != kind:
            raise AuthoringError(f"line {number}: END {kind.upper()} without BEGIN {kind.upper()}")
        inside = kind if begin else None
        if begin and kind == "solution":
            solutions += 1
            indent = line[:len(line) - len(line.lstrip())]
            kept.append(indent + (CODE_STUB if code else TEXT_STUB))
            if indent and code:  # a comment alone would leave an indented block empty
                kept.append(indent + "pass")
        elif begin:
            hidden += 1
    if inside is not None:
        raise AuthoringError(f"BEGIN {inside.upper()} without END {inside.upper()}")
    text = "\n".join(kept)
    return (text.rstrip() if solutions or hidden else text), solutions, hidden


def student_notebook(nb: NotebookNode) -> tuple[NotebookNode, int, int]:
    """Return ``(student_nb, solutions, hidden_tests)``; ``nb`` is not changed."""
    nb = copy.deepcopy(nb)
    cells, solutions, hidden = [], 0, 0
    for index, cell in enumerate(nb.cells):
        cell_tags = tags(cell)
        if LEFT_OUT_TAGS & set(cell_tags):
            continue
        try:
            source, s, h = clear_regions(cell.source, code=cell.cell_type == "code")
        except AuthoringError as exc:
            raise AuthoringError(f"cell {index}: {exc}") from None
        solutions, hidden = solutions + s, hidden + h
        meta = cell.metadata
        graded = bool(s or h or "nbgrader" in meta or GRADED_TAGS & set(cell_tags))
        cell.source = source
        if graded and cell.cell_type == "code":
            cell.outputs, cell.execution_count = [], None  # they showed the solution
            meta.pop("execution", None)  # nbclient's timings of that run
        if s or "exercise" in cell_tags:  # the stub must be visible
            meta.get("jupyter", {}).pop("source_hidden", None)
            if meta.get("jupyter") == {}:
                del meta["jupyter"]
        meta.pop("nbgrader", None)
        if "tags" in meta:
            meta["tags"] = [t for t in cell_tags if t not in GRADED_TAGS]
            if not meta["tags"]:
                del meta["tags"]
        cells.append(cell)
    nb.cells = cells
    # `celltoolbar` is nbgrader's "Create Assignment" toolbar in the classic notebook.
    for key in ("nbgrader", "celltoolbar"):
        nb.metadata.pop(key, None)
    return nb, solutions, hidden


def _git_ignored(root: Path, paths: list[Path]) -> set[Path]:
    """The ``paths`` (relative to ``root``) git ignores; empty outside a git work tree."""
    git = shutil.which("git")
    if not git or not paths:
        return set()
    names = "".join(p.as_posix() + "\0" for p in paths)
    try:
        done = subprocess.run([git, "check-ignore", "--stdin", "-z"], cwd=root, input=names,
                              capture_output=True, text=True, timeout=60)
    except (OSError, subprocess.SubprocessError):
        return set()
    if done.returncode not in (0, 1):  # 128: not a work tree
        return set()
    return {Path(p) for p in done.stdout.split("\0") if p}


def _unreadable(exc: OSError) -> None:
    # os.walk skips a folder it cannot list unless told: the edition would miss files.
    raise AuthoringError(f"cannot read {exc.filename}: {exc.strerror or exc}")


def _inventory(source: Path) -> tuple[list[Path], list[Path]]:
    """The notebooks and the other files to copy, relative to ``source``."""
    found: list[Path] = []
    for folder, dirs, files in os.walk(source, onerror=_unreadable):
        dirs[:] = sorted(d for d in dirs if d not in SKIPPED_DIRS and not d.startswith("."))
        for name in sorted(files):
            if not name.startswith(".") and name not in INSTRUCTOR_ONLY \
                    and not name.endswith(".pyc"):
                found.append((Path(folder) / name).relative_to(source))
    ignored = _git_ignored(source, found)
    found = [p for p in found if p not in ignored]
    return ([p for p in found if p.suffix == ".ipynb"],
            [p for p in found if p.suffix != ".ipynb"])


def _check_dirs(source: Path, out: Path) -> None:
    if not source.is_dir():
        raise AuthoringError(f"source directory {source} does not exist")
    if out.is_symlink():  # replacing it would replace the link, not what it points to
        raise AuthoringError(f"OUT_DIR {out} is a symbolic link: give the directory itself "
                             "or another path")
    # Compared both as written and with symbolic links resolved: SOURCE_DIR can lie
    # inside OUT_DIR through a link (OUT_DIR/link -> the notebooks) that replacing
    # OUT_DIR would remove.
    for src, dst in ((source.resolve(), out.resolve()),
                     (Path(os.path.abspath(source)), Path(os.path.abspath(out)))):
        if dst == src or src in dst.parents:
            raise AuthoringError(f"OUT_DIR {out} is inside SOURCE_DIR {source}: choose a "
                                 "directory outside it (e.g. student)")
        if dst in src.parents:
            raise AuthoringError(f"OUT_DIR {out} contains SOURCE_DIR {source}")
    dst = out.resolve()
    if dst.exists() and not dst.is_dir():
        raise AuthoringError(f"OUT_DIR {out} is a file")
    if dst.is_dir() and any(dst.iterdir()) and not (dst / STAMP).exists():
        raise AuthoringError(f"OUT_DIR {out} is not empty and was not written by "
                             f"`{PROG}`: remove it or choose another directory")


def write_edition(source: Path, out: Path) -> Summary:
    """Write the student edition of ``source`` into ``out`` (replacing an earlier one).

    All or nothing: the edition is written into a temporary directory beside ``out``,
    which replaces ``out`` only once it is complete, so a failure (or Ctrl-C) leaves an
    earlier edition as it was. Source files are only read.
    """
    _check_dirs(source, out)
    notebooks, others = _inventory(source)
    summary, editions = Summary(), {}
    # Convert everything before writing anything: a bad notebook leaves no half edition.
    for rel in notebooks:
        try:
            nb, solutions, hidden = student_notebook(read(source / rel))
        except AuthoringError as exc:
            raise AuthoringError(f"{rel.as_posix()}: {exc}") from None
        editions[rel] = nb
        summary.solutions += solutions
        summary.hidden_tests += hidden
    staging = _staging(out)
    try:
        _write_into(staging, source, editions, others)
        _replace(out, staging)
    except BaseException:
        shutil.rmtree(staging, ignore_errors=True)
        raise
    summary.notebooks, summary.copied = len(editions), len(others)
    return summary


def _staging(out: Path) -> Path:
    """A new empty directory beside ``out`` (same file system: renamed into place)."""
    try:
        out.parent.mkdir(parents=True, exist_ok=True)
        staging = Path(tempfile.mkdtemp(dir=out.parent, prefix=f".{out.name}.", suffix=".tmp"))
        umask = os.umask(0)  # mkdtemp's directory is private; OUT_DIR is a plain one
        os.umask(umask)
        staging.chmod(0o777 & ~umask)
    except OSError as exc:
        raise AuthoringError(f"cannot write OUT_DIR {out}: {exc.strerror or exc}") from None
    return staging


def _write_into(staging: Path, source: Path, editions: dict, others: list[Path]) -> None:
    try:
        write_text(staging / STAMP,
                   f"Written by `{PROG}`; its next run replaces this directory.\n")
    except OSError as exc:
        raise AuthoringError(f"cannot write OUT_DIR: {exc.strerror or exc}") from None
    for rel, nb in editions.items():
        try:
            (staging / rel).parent.mkdir(parents=True, exist_ok=True)
            write_text(staging / rel, dumps(nb))
        except OSError as exc:
            raise AuthoringError(f"{rel.as_posix()}: cannot write "
                                 f"({exc.strerror or exc})") from None
    for rel in others:
        try:
            (staging / rel).parent.mkdir(parents=True, exist_ok=True)
            shutil.copy2(source / rel, staging / rel)  # a FIFO raises, never blocks
        except OSError as exc:  # a broken link, a pipe, an unreadable file
            raise AuthoringError(f"{rel.as_posix()}: cannot copy "
                                 f"({exc.strerror or exc})") from None


def _replace(out: Path, staging: Path) -> None:
    """Put the complete edition in ``staging`` at ``out``, where an earlier one may be."""
    try:
        if not out.exists():
            os.rename(staging, out)
            return
        old = staging.with_name(staging.name[:-len(".tmp")] + ".old")
        os.rename(out, old)
        try:
            os.rename(staging, out)
        except BaseException:
            os.rename(old, out)  # the earlier edition back where it was
            raise
    except OSError as exc:
        raise AuthoringError(f"cannot write OUT_DIR {out}: {exc.strerror or exc}") from None
    try:
        shutil.rmtree(old)  # rmtree never follows a link: nothing outside is removed
    except OSError as exc:
        raise AuthoringError(f"the new edition is in {out}, but the earlier one could not "
                             f"be removed from {old}: {exc.strerror or exc}") from None


def _command(args: argparse.Namespace) -> int:
    summary = write_edition(args.source, args.out)
    print(f"student edition in {args.out}: {summary}")
    return 0


def _configure(parser: argparse.ArgumentParser) -> argparse.ArgumentParser:
    parser.add_argument("source", type=Path, metavar="SOURCE_DIR",
                        help="the instructor notebooks, e.g. notebooks")
    parser.add_argument("out", type=Path, metavar="OUT_DIR",
                        help="where to write the student edition, e.g. student (replaced "
                             "if an earlier run wrote it)")
    return set_action(parser, PROG, _command)


def add_parser(subparsers: argparse._SubParsersAction) -> argparse.ArgumentParser:
    """Add the ``student`` command; it sets ``run``: ``args.run(args) -> int``."""
    help_ = "write the student edition (no solutions, no hidden tests)"
    return add_command(subparsers, "student", help_, _configure)


def main(argv: list[str] | None = None) -> int:
    """``python -m poolscope.authoring.student SOURCE_DIR OUT_DIR``; returns the exit code."""
    return main_of(PROG, __doc__, _configure, argv)


if __name__ == "__main__":
    raise SystemExit(main())
