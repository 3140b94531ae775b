"""Navigation and contents, generated from the notebooks' titles.

    python -m poolscope nav notebooks           # rewrite what is out of date
    python -m poolscope nav --check notebooks   # write nothing; exit 1 if anything would change

For every ``NN-*.ipynb`` in the folder (title cell ``# NN - Title``), and the unnumbered
``Further-Resources.ipynb`` after them if it exists (title ``# Further resources``), this
rewrites the navigation cells (tag ``nav``: cell 1 and the last cell; inserted if
missing), writes ``Index.ipynb`` (how to use the collection, the contents with each
notebook's questions) and the contents table in ``README.md`` (next to the folder) between ``<!-- contents -->``
and ``<!-- /contents -->``. Only markdown changes, never outputs or execution counts, so
nbval's stored outputs stay valid; running it twice changes nothing. Every file is
written, or (on any error) none.

    >>> e = [Entry("01-A.ipynb", "01", "Create", ""), Entry("02-B.ipynb", "02", "Submit", "")]
    >>> nav_line(e, 0)
    '[Contents](Index.ipynb) | [02 - Submit](02-B.ipynb) >'
"""

from __future__ import annotations

import argparse
import copy
import os
import re
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING
from urllib.parse import quote

from ._common import (AuthoringError, NUMBERED, add_command, dumps, has_tag, main_of,
                      numbered_notebooks, read, read_text, set_action, write_all)

if TYPE_CHECKING:
    from nbformat import NotebookNode

PROG = "poolscope nav"
INDEX = "Index.ipynb"
# An unnumbered page after the last notebook (no exercises): linked from the last
# notebook's navigation, the contents and the README, when the folder has it.
RESOURCES = "Further-Resources.ipynb"
RESOURCES_TITLE = "Further resources"
BEGIN, END = "<!-- contents -->", "<!-- /contents -->"
STUDENT_COMMAND = "python -m poolscope student notebooks student"
TITLE = re.compile(r"^# (\d\d) - (\S.*)$")
_BULLET = re.compile(r"^\s*(?:[-*+]|\d+[.)])\s+(.*)$")


@dataclass(frozen=True)
class Entry:
    """One notebook of the collection."""

    name: str       # file name, e.g. 01-Create-a-Pool.ipynb
    number: str     # "01"
    title: str      # "Create a pool"
    questions: str  # the overview's questions on one line, or ""

    @property
    def label(self) -> str:
        return f"{self.number} - {self.title}" if self.number else self.title

    def link(self, folder: str = "") -> str:
        return f"[{self.label}]({quote(folder + self.name)})"


def _title(nb: NotebookNode, name: str) -> tuple[str, str]:
    first = nb.cells[0] if nb.cells else None
    match = TITLE.match(first.source.strip()) if first and first.cell_type == "markdown" else None
    if match is None:
        raise AuthoringError(f"{name}: cell 0 must be a markdown title cell '# NN - Title' "
                             "and nothing else")
    if match[1] != NUMBERED.match(name)[1]:
        raise AuthoringError(f"{name}: the title says {match[1]}, the file name {name[:2]}")
    return match[1], match[2].strip()


def questions(nb: NotebookNode) -> str:
    """The ``**Questions**`` of the ``overview`` cell on one line ("" if there are none).

    >>> from nbformat.v4 import new_markdown_cell, new_notebook
    >>> nb = new_notebook(cells=[new_markdown_cell(
    ...     "**Questions**\\n- Why?\\n- How?\\n\\n**Objectives**\\n- Say",
    ...     metadata={"tags": ["overview"]})])
    >>> questions(nb)
    'Why? How?'
    >>> nb.cells[0].source = "**Questions**\\n- Why is this\\n  so long?\\n- How?"
    >>> questions(nb)
    'Why is this so long? How?'
    """
    cell = next((c for c in nb.cells if has_tag(c, "overview")), None)
    lines = cell.source.splitlines() if cell else []
    start = next((i for i, line in enumerate(lines) if "**Questions**" in line), None)
    if start is None:
        return ""
    found = [lines[start].split("**Questions**", 1)[1].strip(" :")]
    for line in lines[start + 1:]:
        if line.lstrip().startswith("**") or line.lstrip().startswith("#"):
            break  # the next section
        bullet = _BULLET.match(line)
        if bullet:
            found.append(bullet[1].strip())
        elif line[:1] in (" ", "\t") and line.strip() and len(found) > 1:
            found[-1] += " " + line.strip()  # a bullet continued on an indented line
    return " ".join(q for q in found if q)


def collect(folder: Path) -> list[tuple[Entry, NotebookNode]]:
    """The numbered notebooks of ``folder`` with their titles, in order, then the
    further-resources page if there is one."""
    paths = numbered_notebooks(folder)
    if not paths:
        raise AuthoringError(f"no NN-*.ipynb notebooks in {folder}")
    found = []
    for path in paths:
        nb = read(path)
        number, title = _title(nb, path.name)
        found.append((Entry(path.name, number, title, questions(nb)), nb))
    for (a, _), (b, _) in zip(found, found[1:]):
        if a.number == b.number:
            raise AuthoringError(f"{a.name} and {b.name} share the number {a.number}")
    extra = folder / RESOURCES
    if extra.is_file():
        nb = read(extra)
        first = nb.cells[0] if nb.cells else None
        if first is None or first.cell_type != "markdown" \
                or first.source.strip() != f"# {RESOURCES_TITLE}":
            raise AuthoringError(f"{RESOURCES}: cell 0 must be the markdown title cell "
                                 f"'# {RESOURCES_TITLE}' and nothing else")
        found.append((Entry(RESOURCES, "", RESOURCES_TITLE, questions(nb)), nb))
    return found


def nav_line(entries: list[Entry], i: int) -> str:
    """The navigation line of notebook ``i``: previous | contents | next."""
    parts = [f"[Contents]({INDEX})"]
    if i > 0:
        parts.insert(0, "< " + entries[i - 1].link())
    if i + 1 < len(entries):
        parts.append(entries[i + 1].link() + " >")
    return " | ".join(parts)


def with_nav(nb: NotebookNode, line: str, name: str) -> NotebookNode:
    """A copy of ``nb`` whose ``nav`` cells (1 and last) say ``line``; inserted if missing."""
    from nbformat.v4 import new_markdown_cell

    nb = copy.deepcopy(nb)
    cells = nb.cells
    last = len(cells) - 1
    misplaced = [i for i, c in enumerate(cells) if has_tag(c, "nav") and i not in (1, last)]
    if misplaced:
        raise AuthoringError(f"{name}: cell {misplaced[0]} is tagged nav, but only cell 1 and "
                             "the last cell may be")

    def nav_cell(cell_id: str) -> NotebookNode:
        cell = new_markdown_cell(line, metadata={"tags": ["nav"]}, id=cell_id)
        if nb.nbformat_minor < 5:  # cell ids exist from nbformat 4.5 on
            del cell["id"]
        return cell

    if len(cells) < 2 or not has_tag(cells[1], "nav"):
        cells.insert(1, nav_cell("nav-top"))
    if len(cells) < 3 or not has_tag(cells[-1], "nav"):
        cells.append(nav_cell("nav-bottom"))
    cells[1].source = cells[-1].source = line
    return nb


def index_notebook(entries: list[Entry]) -> NotebookNode:
    """``Index.ipynb``: how to use the collection, the contents, a note for instructors."""
    from nbformat.v4 import new_markdown_cell, new_notebook

    contents = "\n".join(f"- {e.link()}" + (f": {e.questions}" if e.questions else "")
                         for e in entries)
    cells = [
        ("title", "# poolscope: ThreadPool, step by step", []),
        ("intro", _INTRO, []),
        ("contents", "## Contents\n\n" + contents, []),
        ("instructors", _INSTRUCTORS.format(command=STUDENT_COMMAND), ["instructor"]),
    ]
    nb = new_notebook(metadata={
        "kernelspec": {"display_name": "Python 3 (ipykernel)", "language": "python",
                       "name": "python3"},
        "language_info": {"name": "python"}})
    nb.cells = [new_markdown_cell(source, id=cell_id, metadata={"tags": t} if t else {})
                for cell_id, source, t in cells]
    return nb


_INTRO = """\
An interactive tutorial on Python's `multiprocessing.pool.ThreadPool`. The notebooks follow \
the life of a pool: create it, submit work (blocking and not), wait for the results, shut it \
down; then they go beyond it: errors and callbacks, the GIL, `ThreadPoolExecutor` and the \
process `Pool`, and a capstone against a local web server. Every example records what really \
happened and draws it as a timeline, one lane per thread.

**How to use these notebooks**

- Work through them in order: each builds on the one before. A notebook starts with the \
questions it answers and ends with its key points; the links at its top and bottom lead to \
the previous and the next one.
- Run the cells from top to bottom (Shift+Enter). When the text asks you to predict what a \
cell does, decide before you run it.
- Each exercise has an answer cell and a check cell. Replace the `...` in the answer cell \
with your answer (or fix the code it shows), run it, then run the check cell: it says \
whether the exercise is solved and gives a hint if not.
- If things get confusing, restart: *Kernel > Restart Kernel and Run All Cells*. Every \
notebook sets itself up, so any one of them can be started on its own."""

_INSTRUCTORS = """\
**For instructors.** These notebooks hold each exercise's solution in its answer cell \
(folded: click the three dots to unfold it) and hidden tests in the check cells, marked for \
nbgrader. Give learners the student edition instead, which has neither and still runs top \
to bottom; from the repository's root,

```sh
{command}
```

writes it to `student/` (this note is left out of it)."""


def readme_table(entries: list[Entry], folder: str) -> str:
    """The README's contents table, linking into ``folder`` (e.g. ``notebooks/``)."""
    rows = [f"| {e.link(folder)} | {e.questions.replace('|', chr(92) + '|')} |" for e in entries]
    return "\n".join(["| notebook | questions |", "|---|---|", *rows])


def with_table(text: str, table: str, name: str) -> str | None:
    """``text`` with the table between the markers; None when there are no markers."""
    if BEGIN not in text and END not in text:
        return None
    if text.count(BEGIN) != 1 or text.count(END) != 1:
        raise AuthoringError(f"{name}: needs {BEGIN} and {END} once each")
    head, sep, rest = text.partition(BEGIN)
    _, sep2, tail = rest.partition(END)
    if not sep or not sep2:
        raise AuthoringError(f"{name}: needs both {BEGIN} and {END}, in that order")
    return f"{head}{BEGIN}\n{table}\n{END}{tail}"


def plan(folder: Path, readme: Path) -> tuple[dict[Path, tuple[str, str]], list[str]]:
    """What would change: ``{path: (new_text, why)}``, and notes to print."""
    entries = collect(folder)
    wanted: dict[Path, tuple[str, str]] = {}
    for i, (entry, nb) in enumerate(entries):
        new = with_nav(nb, nav_line([e for e, _ in entries], i), entry.name)
        wanted[folder / entry.name] = (dumps(new), "navigation")
    wanted[folder / INDEX] = (dumps(index_notebook([e for e, _ in entries])), "contents")
    notes = []
    if not readme.is_file():
        notes.append(f"{_shown(readme)}: not found, no contents table written")
    else:
        rel = Path(os.path.relpath(folder.resolve(), readme.resolve().parent))
        new_readme = with_table(read_text(readme),
                                readme_table([e for e, _ in entries], rel.as_posix() + "/"),
                                readme.name)
        if new_readme is None:
            notes.append(f"{_shown(readme)}: no {BEGIN} ... {END} markers, left alone")
        else:
            wanted[readme] = (new_readme, "contents table")
    changes = {}
    for path, (text, why) in wanted.items():
        if path.is_dir():
            raise AuthoringError(f"{path.name} is a directory: remove or rename it")
        try:
            old = path.read_bytes() if path.exists() else None
        except OSError as exc:
            raise AuthoringError(f"cannot read {path.name}: {exc.strerror or exc}") from None
        if old != text.encode("utf-8"):
            changes[path] = (text, why if old is not None else "new file")
    return changes, notes


def _shown(path: Path) -> str:
    """``path`` relative to the working directory when it is below it (shorter to read)."""
    try:
        return path.resolve().relative_to(Path.cwd().resolve()).as_posix()
    except ValueError:
        return str(path)


def _command(args: argparse.Namespace) -> int:
    folder: Path = args.dir
    if not folder.is_dir():
        raise AuthoringError(f"directory {folder} does not exist")
    readme = args.readme or folder.resolve().parent / "README.md"
    changes, notes = plan(folder, readme)
    for note in notes:
        print(note)
    listing = "".join(f"\n  {_shown(p)}: {why}" for p, (_, why) in changes.items())
    if args.check:
        if changes:
            print(f"{len(changes)} files out of date (run `python -m {PROG} {folder}`):{listing}")
            return 1
        print("navigation, contents and README are up to date")
        return 0
    write_all({path: text for path, (text, _) in changes.items()})  # all or nothing
    print(f"{len(changes)} files written{listing}" if changes else "nothing to change")
    return 0


def _configure(parser: argparse.ArgumentParser) -> argparse.ArgumentParser:
    parser.add_argument("dir", type=Path, metavar="DIR", help="the notebooks, e.g. notebooks")
    parser.add_argument("--check", action="store_true",
                        help="write nothing; exit 1 listing the files that would change")
    parser.add_argument("--readme", type=Path, default=None,
                        help="the README with the contents markers (default: DIR/../README.md)")
    return set_action(parser, PROG, _command)


def add_parser(subparsers: argparse._SubParsersAction) -> argparse.ArgumentParser:
    """Add the ``nav`` command; it sets ``run``: ``args.run(args) -> int``."""
    help_ = "rewrite the navigation cells, Index.ipynb and the README's contents"
    return add_command(subparsers, "nav", help_, _configure)


def main(argv: list[str] | None = None) -> int:
    """``python -m poolscope.authoring.nav [--check] DIR``; returns the exit code."""
    return main_of(PROG, __doc__, _configure, argv)


if __name__ == "__main__":
    raise SystemExit(main())
