"""Every notebook follows notebooks/AUTHORING.md: fixed cells, exercises, stored outputs.

`problems()` lists every deviation of one notebook; it runs over the real notebooks and,
to show it can fail, over a fixture broken in one way at a time.
"""

from __future__ import annotations

import re
import sys
from collections.abc import Callable
from pathlib import Path

import nbformat
import pytest
from nbformat import NotebookNode

from nbcollection import ROOT, fixture_notebook, over_real_notebooks, tags

TITLE = re.compile(r"# (\d\d) - \S.*")
HEADING = re.compile(r"^### Exercise (\d+)\.(\d+) \((predict|write|fix|extend)\): \S.*$")
KINDS = {"predict", "write", "fix", "extend"}
SOLUTION_META = {"grade": False, "locked": False, "schema_version": 3, "solution": True,
                 "task": False}
CHECK_META = {"grade": True, "locked": True, "schema_version": 3, "solution": False,
              "task": False}
# A machine's absolute paths (a home, a checkout, an interpreter): the notebooks must run
# anywhere, and tracebacks stored from library frames show such paths.
ABSOLUTE = re.compile(r"(?<![\w.~/-])(?:/(?:home|Users|root|tmp|work|private|mnt|srv|opt|var|usr)/"
                      r"|[A-Za-z]:(?:\\\\|/)+(?:Users|Program Files|Windows)\b)[^\s\"'<>\\]*")
ANSI = re.compile(r"(?:\\u001b|\x1b)\[[0-9;]*[A-Za-z]")


def _title(nb: NotebookNode, name: str) -> list[str]:
    first = nb.cells[0] if nb.cells else None
    is_text = first is not None and first.cell_type == "markdown"
    match = TITLE.fullmatch(first.source.strip()) if is_text else None
    if not match:
        return ["cell 0 is not a markdown title cell '# NN - Title' (and nothing else)"]
    return [] if match[1] == name[:2] else [f"the title's number {match[1]} is not {name[:2]}"]


def _fixed_cells(nb: NotebookNode) -> list[str]:
    found, cells = [], nb.cells
    last = len(cells) - 1
    for i in (1, last):
        if not (cells[i].cell_type == "markdown" and "nav" in tags(cells[i])):
            found.append(f"cell {i} is not a markdown cell tagged nav")
    found += [f"cell {i} is tagged nav (only cell 1 and the last may be)"
              for i, c in enumerate(cells) if "nav" in tags(c) and i not in (1, last)]
    for tag in ("overview", "setup", "keypoints"):
        where = [i for i, c in enumerate(cells) if tag in tags(c)]
        if len(where) != 1:
            found.append(f"{len(where)} cells tagged {tag} (want 1)")
    places = {"overview": (2, "markdown"), "keypoints": (last - 1, "markdown")}
    for tag, (i, kind) in places.items():
        if len(cells) > i and not (tag in tags(cells[i]) and cells[i].cell_type == kind):
            found.append(f"cell {i} should be the {kind} cell tagged {tag}")
    code = [c for c in cells if c.cell_type == "code"]
    if not code or "setup" not in tags(code[0]):
        found.append("the first code cell is not the one tagged setup")
    overview = next((c.source for c in cells if "overview" in tags(c)), "")
    found += [f"the overview has no {part}" for part in
              ("**Questions**", "**Objectives**", "**Time**", "**Versions**")
              if part not in overview]
    return found


def _exercise_cell(nb: NotebookNode, i: int, n: int) -> tuple[list[str], str]:
    cell, found = nb.cells[i], []
    meta = dict(cell.metadata.get("nbgrader", {}))
    gid = meta.pop("grade_id", "")
    if cell.cell_type != "code" or meta != SOLUTION_META:
        found.append(f"cell {i} (exercise): nbgrader metadata should be {SOLUTION_META} "
                     f"and a grade_id, is {cell.metadata.get('nbgrader')}")
    if not re.fullmatch(rf"ex{n}_\d+", gid):
        found.append(f"cell {i} (exercise): grade_id {gid!r} is not ex{n}_M")
    if cell.metadata.get("jupyter", {}).get("source_hidden") is not True:
        found.append(f"cell {i} (exercise): no jupyter.source_hidden")
    lines = cell.source.split("\n")
    begins = [k for k, line in enumerate(lines) if "BEGIN SOLUTION" in line]
    ends = [k for k, line in enumerate(lines) if "END SOLUTION" in line]
    if len(begins) != 1 or len(ends) != 1 or ends[0] < begins[0]:
        found.append(f"cell {i} (exercise): wants one BEGIN SOLUTION ... END SOLUTION region")
    elif not any(line.strip() for line in lines[:begins[0]]):
        found.append(f"cell {i} (exercise): no stub before BEGIN SOLUTION")
    after = nb.cells[i + 1] if i + 1 < len(nb.cells) else None
    check = dict(after.metadata.get("nbgrader", {})) if after else {}
    points = check.pop("points", 0)
    if not (after and after.cell_type == "code" and "check" in tags(after)):
        found.append(f"cell {i} (exercise {gid}) is not followed by its check cell")
    elif check.pop("grade_id", "") != f"{gid}_check" or check != CHECK_META or not points > 0:
        found.append(f"cell {i + 1} (check): nbgrader metadata should be {CHECK_META}, "
                     f"points > 0 and grade_id {gid}_check, is {after.metadata.get('nbgrader')}")
    elif "BEGIN HIDDEN TESTS" not in after.source or "END HIDDEN TESTS" not in after.source:
        found.append(f"cell {i + 1} (check): no hidden tests")
    return found, gid


def _exercises(nb: NotebookNode, name: str) -> list[str]:
    n, found, headings, ids = int(name[:2]), [], [], []
    for i, cell in enumerate(nb.cells):
        if cell.cell_type == "markdown":
            for line in cell.source.splitlines():
                if line.startswith("### Exercise") or re.match(r"#+ Exercise", line):
                    match = HEADING.match(line)
                    if not match:
                        found.append(f"cell {i}: {line!r} is not '### Exercise N.M (kind): Title'")
                    else:
                        headings.append((f"ex{match[1]}_{match[2]}", match[3]))
        if "exercise" in tags(cell):
            problems_, gid = _exercise_cell(nb, i, n)
            found += problems_
            ids.append(gid)
        elif "check" in tags(cell) and (i == 0 or "exercise" not in tags(nb.cells[i - 1])):
            found.append(f"cell {i} is tagged check but does not follow an exercise cell")
        elif "nbgrader" in cell.metadata and "check" not in tags(cell):
            found.append(f"cell {i} has nbgrader metadata but is not tagged exercise or check")
    if [h for h, _ in headings] != ids:
        found.append(f"the exercise headings {[h for h, _ in headings]} do not match the "
                     f"exercise cells {ids}")
    if len(set(ids)) != len(ids):
        found.append(f"duplicate grade_ids: {ids}")
    kinds = {k for _, k in headings}
    if len(ids) < 3 or len(kinds) < 2:
        found.append(f"{len(ids)} exercises of kinds {sorted(kinds)}: want at least 3 exercises "
                     "of at least 2 kinds")
    return found


def _execution(nb: NotebookNode) -> list[str]:
    code = [(i, c) for i, c in enumerate(nb.cells) if c.cell_type == "code"]
    counts = [c.execution_count for _, c in code]
    found = []
    if counts != list(range(1, len(code) + 1)):
        found.append(f"execution counts are {counts}, not 1..{len(code)}: run the notebook top "
                     "to bottom in a fresh kernel and save it")
    for i, cell in code:
        if any(o.output_type == "error" for o in cell.outputs) \
                and "raises-exception" not in tags(cell):
            found.append(f"cell {i} has an error output but no raises-exception tag")
        if "check" in tags(cell) and not cell.outputs:
            found.append(f"cell {i} (check) has no stored output")
    return found


def _paths(raw: str) -> list[str]:
    text = ANSI.sub(" ", raw)  # tracebacks colour a path right before it starts
    found = [m.group(0) for m in ABSOLUTE.finditer(text)]
    for literal in {str(ROOT), str(Path.home()), sys.prefix}:
        if len(literal) > 4 and literal in text:
            found.append(literal)
    return [f"absolute path in the JSON: {p!r}" for p in sorted(set(found))]


# A page a learner finishes in one sitting: its prose within these many words, and no
# wall of text in one cell (the rhythm is a few sentences, a short cell, a timeline).
MAX_WORDS, MAX_CELL_WORDS = 1800, 250


def _length(nb: NotebookNode) -> list[str]:
    words = [(i, len(c.source.split())) for i, c in enumerate(nb.cells)
             if c.cell_type == "markdown"]
    found = [f"cell {i} has {n} words of prose (at most {MAX_CELL_WORDS})"
             for i, n in words if n > MAX_CELL_WORDS]
    total = sum(n for _, n in words)
    if total > MAX_WORDS:
        found.append(f"{total} words of prose (at most {MAX_WORDS}: split the page)")
    return found


def problems(raw: str, name: str) -> list[str]:
    """Every way the notebook ``name`` (its JSON text ``raw``) breaks the conventions."""
    nb = nbformat.reads(raw, as_version=4)
    if len(nb.cells) < 6:
        return [f"only {len(nb.cells)} cells"]
    return (_title(nb, name) + _fixed_cells(nb) + _exercises(nb, name) + _execution(nb)
            + _paths(raw) + _length(nb))


@over_real_notebooks
def test_a_real_notebook_follows_the_conventions(path):
    found = problems(path.read_text(encoding="utf-8"), path.name)
    assert not found, f"{path.name}:\n  " + "\n  ".join(found)


def test_the_fixture_follows_the_conventions():
    assert problems(nbformat.writes(fixture_notebook("01", "X")), "01-X.ipynb") == []


def _heading(kind: str) -> Callable[[NotebookNode], None]:
    def change(nb: NotebookNode) -> None:
        for cell in nb.cells:
            cell.source = re.sub(r"\((predict|write|extend)\)", f"({kind})", cell.source)
    return change


def _set(i: int, **meta) -> Callable[[NotebookNode], None]:
    return lambda nb: nb.cells[i].metadata.update(meta)


def _no_counts(nb: NotebookNode) -> None:
    for cell in nb.cells:
        if cell.cell_type == "code":
            cell.execution_count, cell.outputs = None, []


# Machine paths, built from parts so that tests/test_project.py does not find them here.
HOME_PATH, PYENV_PATH = "/" + "home/ann/x.py", "/" + "root/.pyenv/x.py"

# Cells of the fixture: 0 title, 1 nav, 2 overview, 3 setup, 5 squares, 6/7/8 exercise 1
# (heading, answer, check), 9 answer text, 10-12 exercise 2, 13-15 exercise 3,
# 17 raises-exception, 18 key points, 19 nav.
BROKEN = {
    "title": (lambda nb: setattr(nb.cells[0], "source", "# 1 - X"), "cell 0 is not"),
    "title number": (lambda nb: setattr(nb.cells[0], "source", "# 02 - X"), "number 02"),
    "nav": (_set(1, tags=[]), "cell 1 is not a markdown cell tagged nav"),
    "overview": (_set(2, tags=[]), "0 cells tagged overview"),
    "questions": (lambda nb: setattr(nb.cells[2], "source", "Hi"), "no **Questions**"),
    "setup": (_set(3, tags=[]), "0 cells tagged setup"),
    "keypoints": (_set(18, tags=[]), "0 cells tagged keypoints"),
    "two exercises": (lambda nb: nb.cells.__delitem__(slice(13, 16)), "2 exercises"),
    "one kind": (_heading("predict"), "of kinds ['predict']"),
    "unknown kind": (_heading("guess"), "is not '### Exercise N.M (kind): Title'"),
    "check id": (lambda nb: nb.cells[8].metadata.nbgrader.update(grade_id="ex1_2_check"),
                 "grade_id ex1_1_check"),
    "check order": (lambda nb: nb.cells.insert(8, nb.cells.pop(9)),
                    "is not followed by its check cell"),
    "metadata": (lambda nb: nb.cells[7].metadata.nbgrader.pop("schema_version"),
                 "(exercise): nbgrader metadata"),
    "points": (lambda nb: nb.cells[8].metadata.nbgrader.update(points=0), "points > 0"),
    "folding": (lambda nb: nb.cells[7].metadata.pop("jupyter"), "no jupyter.source_hidden"),
    "notebook number": (lambda nb: nb.cells[7].metadata.nbgrader.update(grade_id="ex2_1"),
                        "is not ex1_M"),
    "heading number": (lambda nb: setattr(nb.cells[6], "source", "### Exercise 1.5 (predict): X"),
                       "do not match the exercise cells"),
    "no solution": (lambda nb: setattr(nb.cells[7], "source", "x = ..."), "wants one BEGIN"),
    "no stub": (lambda nb: setattr(nb.cells[7], "source", nb.cells[7].source.split("\n", 2)[2]),
                "no stub"),
    "no hidden tests": (lambda nb: setattr(nb.cells[8], "source", "check.ex1_1(prediction);"),
                        "no hidden tests"),
    "stray nbgrader": (_set(5, nbgrader={"solution": True}), "cell 5 has nbgrader metadata"),
    "counts": (lambda nb: setattr(nb.cells[5], "execution_count", 9), "execution counts are"),
    "not run": (_no_counts, "has no stored output"),
    "error": (_set(17, tags=[]), "cell 17 has an error output"),
    "path": (lambda nb: nb.cells[5].outputs[0].data.update({"text/plain": HOME_PATH}),
             repr(HOME_PATH)),
    "traceback path": (lambda nb: setattr(nb.cells[17].outputs[0], "traceback",
                                          [f"\x1b[0;32m{PYENV_PATH}\x1b[0m:3"]), repr(PYENV_PATH)),
    "long cell": (lambda nb: setattr(nb.cells[4], "source", "word " * 251), "251 words"),
    "long page": (lambda nb: nb.cells.extend(nbformat.v4.new_markdown_cell("word " * 200)
                                             for _ in range(10)), "split the page"),
    "windows path": (lambda nb: setattr(nb.cells[4], "source", "C:\\Users\\ann\\x.py"),
                     "absolute path"),
}


@pytest.mark.parametrize("change, message", BROKEN.values(), ids=BROKEN.keys())
def test_each_deviation_is_found(change, message):
    nb = fixture_notebook("01", "X")
    change(nb)
    found = problems(nbformat.writes(nb), "01-X.ipynb")
    assert any(message in p for p in found), found


def test_urls_and_relative_paths_are_not_machine_paths():
    nb = fixture_notebook("01", "X")
    nb.cells[4].source = ("See https://docs.python.org/3/library/multiprocessing.html and "
                          "https://example.com" + HOME_PATH + ", ../src/poolscope, figures/a.png.")
    assert problems(nbformat.writes(nb), "01-X.ipynb") == []
