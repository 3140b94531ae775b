"""What both tools share: reading and writing notebooks, tags, and one-line errors.

Notebooks are written as nbformat writes them (sorted keys, one-space indent, a final
newline) but as UTF-8 bytes with ``\\n`` line ends, so a file is byte-identical on every
platform and re-running a tool changes nothing.

    >>> import nbformat
    >>> nb = nbformat.v4.new_notebook(cells=[nbformat.v4.new_markdown_cell("# 01 - Hi", id="t")])
    >>> dumps(nb).endswith("}\\n")
    True
    >>> has_tag(nb.cells[0], "nav")
    False
"""

from __future__ import annotations

import argparse
import os
import re
import stat
import sys
import tempfile
from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING

if TYPE_CHECKING:  # nbformat is imported when needed: `poolscope --help` works without it
    from nbformat import NotebookNode

# `NN-Title-Words.ipynb`; Index.ipynb and scratch notebooks do not match.
NUMBERED = re.compile(r"^(\d\d)-.+\.ipynb$")


class AuthoringError(Exception):
    """A problem the author must fix; shown as one line, exit code 2 (no traceback)."""


def numbered_notebooks(folder: Path) -> list[Path]:
    """The ``NN-*.ipynb`` notebooks directly in ``folder``, in order."""
    return sorted(p for p in folder.iterdir() if p.is_file() and NUMBERED.match(p.name))


def read(path: Path) -> NotebookNode:
    """Read a notebook, turning a broken file into an :class:`AuthoringError`."""
    import nbformat

    try:
        return nbformat.read(path, as_version=4)
    except Exception as exc:  # JSON or schema errors: name the file, not a traceback
        raise AuthoringError(f"{path.name}: not a readable notebook ({exc})") from exc


def dumps(nb: NotebookNode) -> str:
    """The normalised JSON text of ``nb`` (what ``nbformat.write`` would write)."""
    import nbformat

    text = nbformat.writes(nb)
    return text if text.endswith("\n") else text + "\n"


def write_text(path: Path, text: str) -> None:
    """Write UTF-8 with ``\\n`` line ends on every platform."""
    path.write_bytes(text.encode("utf-8"))


def read_text(path: Path) -> str:
    """Read a UTF-8 text file, turning what can go wrong into an :class:`AuthoringError`."""
    try:
        return path.read_text(encoding="utf-8")
    except UnicodeDecodeError as exc:
        raise AuthoringError(f"{path.name}: not UTF-8 text ({exc.reason} at byte {exc.start}); "
                             "save it as UTF-8") from None
    except OSError as exc:
        raise AuthoringError(f"cannot read {path.name}: {exc.strerror or exc}") from None


def write_all(texts: dict[Path, str]) -> None:
    """Write every file of ``texts`` (UTF-8, ``\\n`` line ends) or, on any failure,
    none: each is written to a temporary file beside it, and only when all are
    written do they replace the files, one rename each.

    A file reached through a symbolic link is rewritten where it lives; the link stays.
    A failure is an :class:`AuthoringError` naming the file.
    """
    targets = {path: path.resolve() for path in texts}
    for path, target in targets.items():
        # Checked first, so an unwritable README does not show up after the notebooks
        # were replaced (a rename onto a read-only file can fail, not just the write).
        if target.is_dir():
            raise AuthoringError(f"{path.name} is a directory: remove or rename it")
        if target.exists() and not os.access(target, os.W_OK):
            raise AuthoringError(f"cannot write {path.name}: permission denied")
    temporary: list[tuple[str, Path]] = []  # (temporary file, the file it replaces)
    try:
        for path, target in targets.items():
            try:
                fd, name = tempfile.mkstemp(dir=target.parent, prefix=f".{target.name}.",
                                            suffix=".tmp")
                temporary.append((name, target))
                with os.fdopen(fd, "wb") as f:
                    f.write(texts[path].encode("utf-8"))
                os.chmod(name, _mode(target))
            except OSError as exc:
                raise AuthoringError(f"cannot write {path.name}: "
                                     f"{exc.strerror or exc}") from None
        for done, (name, target) in enumerate(temporary):
            try:
                os.replace(name, target)
            except OSError as exc:  # checked above, so hardly ever: say what happened
                raise AuthoringError(f"cannot write {target.name}: {exc.strerror or exc} "
                                     f"({done} of {len(temporary)} files were written; "
                                     "run again once it is fixed)") from None
    finally:
        for name, _ in temporary:
            if os.path.lexists(name):
                os.unlink(name)


def _mode(path: Path) -> int:
    """The permissions a rewritten ``path`` keeps: its own, or a new file's."""
    try:
        return stat.S_IMODE(path.stat().st_mode)
    except FileNotFoundError:
        umask = os.umask(0)  # read it: the only way is to set it (and put it back)
        os.umask(umask)
        return 0o666 & ~umask


def tags(cell: NotebookNode) -> list[str]:
    return list(cell.get("metadata", {}).get("tags", []))


def has_tag(cell: NotebookNode, tag: str) -> bool:
    return tag in tags(cell)


def run(prog: str, action: Callable[[argparse.Namespace], int],
        args: argparse.Namespace) -> int:
    """Run a command's action; an :class:`AuthoringError` becomes one line on stderr."""
    try:
        return action(args)
    except AuthoringError as exc:
        message = str(exc)
    except ModuleNotFoundError as exc:
        if exc.name != "nbformat":
            raise
        message = "needs nbformat: pip install -e '.[notebooks]'"
    except OSError as exc:  # a file-system problem no check foresaw: still one line
        where = f"{exc.filename}: " if exc.filename else ""
        message = f"{where}{exc.strerror or exc}"
    print(f"{prog}: error: {message}", file=sys.stderr)
    return 2


Configure = Callable[[argparse.ArgumentParser], argparse.ArgumentParser]


def set_action(parser: argparse.ArgumentParser, prog: str,
               action: Callable[[argparse.Namespace], int]) -> argparse.ArgumentParser:
    """Set ``args.run(args) -> int`` on ``parser``: :func:`run` of ``action``; return it."""
    parser.set_defaults(run=lambda args: run(prog, action, args))
    return parser


def add_command(subparsers: argparse._SubParsersAction, name: str, help_: str,
                configure: Configure) -> argparse.ArgumentParser:
    """Add command ``name`` to ``subparsers``, its arguments set by ``configure``."""
    return configure(subparsers.add_parser(name, help=help_, description=help_))


def main_of(prog: str, doc: str, configure: Configure, argv: list[str] | None) -> int:
    """Parse ``argv`` for a command run on its own (``python -m ...``); its exit code.

    The description is the first paragraph of ``doc`` (the module's docstring).
    """
    parser = argparse.ArgumentParser(prog=prog, description=doc.split("\n\n")[0])
    args = configure(parser).parse_args(argv)
    return args.run(args)
