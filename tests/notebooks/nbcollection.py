"""Helpers for the notebook tests: the real notebooks, a fixture collection, and readers.

The fixture collection follows notebooks/AUTHORING.md to the letter (title, nav, overview,
setup, exercises with answer and check cells, key points, nav; stored outputs as a fresh
kernel would have written them), so the tools and the structure checks are tested even
before the real notebooks exist. Its checks are built inline with `poolscope.tutorial.checks`, as
`poolscope.tutorial.checks.nbNN` would build them.
"""

from __future__ import annotations

import json
import re
from pathlib import Path

import nbformat
import pytest
from nbformat import NotebookNode
from nbformat.v4 import (new_code_cell, new_markdown_cell, new_notebook, new_output)

ROOT = Path(__file__).resolve().parents[2]
NOTEBOOKS = ROOT / "notebooks"
NUMBERED = re.compile(r"^\d\d-.+\.ipynb$")
MARKERS = ("BEGIN SOLUTION", "END SOLUTION", "BEGIN HIDDEN TESTS", "END HIDDEN TESTS")


def real_notebooks() -> list[Path]:
    """The committed ``notebooks/NN-*.ipynb``, in order."""
    if not NOTEBOOKS.is_dir():
        return []
    return sorted(p for p in NOTEBOOKS.iterdir() if NUMBERED.match(p.name))


def over_real_notebooks(test):
    """Parametrize ``test`` over the real notebooks (argument ``path``); skip if none."""
    paths = real_notebooks()
    params = [pytest.param(p, id=p.stem[:2]) for p in paths] or [
        pytest.param(None, marks=pytest.mark.skip(reason="no notebooks/NN-*.ipynb exist yet"))]
    return pytest.mark.parametrize("path", params)(test)


def tags(cell: NotebookNode) -> list[str]:
    return list(cell.get("metadata", {}).get("tags", []))


def output_text(cell: NotebookNode) -> str:
    """All text a code cell's stored outputs show (streams, plain text, errors)."""
    parts = []
    for out in cell.get("outputs", []):
        if out.output_type == "stream":
            parts.append(out.text)
        elif out.output_type == "error":
            parts.append(f"{out.ename}: {out.evalue}")
        elif "text/plain" in out.get("data", {}):
            parts.append(out.data["text/plain"])
    return "".join(parts)


def regions(source: str) -> tuple[list[str], list[str]]:
    """``(inside, outside)``: the lines of a cell inside marked regions and the rest.

    Written independently of poolscope.authoring.student, so the tests do not trust it.
    """
    inside, outside, depth = [], [], 0
    for line in source.split("\n"):
        if any(m in line for m in MARKERS):
            depth += 1 if "BEGIN" in line else -1
        elif depth:
            inside.append(line)
        else:
            outside.append(line)
    return inside, outside


_TRIVIAL = {"else:", "try:", "finally:", "return", "continue", "break", "pass", "...",
            "return None", "except Exception:", ")", "]", "}"}


def meaningful(line: str) -> bool:
    """A line that could only leak from a solution: not blank, a comment, or tiny."""
    text = line.strip()
    return len(text) >= 6 and not text.startswith("#") and text not in _TRIVIAL


def secret_lines(nb: NotebookNode) -> set[str]:
    """Meaningful lines of solutions and hidden tests that appear nowhere else in ``nb``.

    A line found elsewhere, even inside a longer line (a stub's comment may show the
    signature to write), is public: finding it in an edition is no leak.
    """
    secret, public = set(), []
    for cell in nb.cells:
        inside, outside = regions(cell.source)
        secret.update(line.strip() for line in inside if meaningful(line))
        public += outside
    text = "\n".join(public)
    return {line for line in secret if line not in text}


def leaks(raw: str, secrets: set[str]) -> list[str]:
    """What of ``secrets`` and the markers appears in a notebook's raw JSON text."""
    found = [m for m in (*MARKERS, "nbgrader") if m.lower() in raw.lower()]
    for line in sorted(secrets):
        if line in raw or json.dumps(line, ensure_ascii=False)[1:-1] in raw:
            found.append(line)
    return found


# --- the fixture collection --------------------------------------------------------------

def _stream(text: str) -> NotebookNode:
    return new_output("stream", name="stdout", text=text)


def _exercise(n: int, m: int, kind: str, title: str, stub: str, solution: str,
              check_args: str, indent: str = "") -> list[NotebookNode]:
    heading = new_markdown_cell(f"### Exercise {n}.{m} ({kind}): {title}\n\nDo it.")
    answer = new_code_cell(
        f"{stub}\n{indent}### BEGIN SOLUTION\n{solution}\n{indent}### END SOLUTION",
        metadata={"tags": ["exercise"], "jupyter": {"source_hidden": True},
                  "nbgrader": {"grade": False, "grade_id": f"ex{n}_{m}", "locked": False,
                               "schema_version": 3, "solution": True, "task": False}})
    check = new_code_cell(
        f"check.ex{n}_{m}({check_args});\n### BEGIN HIDDEN TESTS\n"
        f"assert check.ex{n}_{m}({check_args}, quiet=True)\n### END HIDDEN TESTS",
        outputs=[_stream(f"Exercise {n}.{m} - {title}: solved!\n")],
        metadata={"tags": ["check"],
                  "nbgrader": {"grade": True, "grade_id": f"ex{n}_{m}_check", "locked": True,
                               "points": 1, "schema_version": 3, "solution": False,
                               "task": False}})
    return [heading, answer, check]


def fixture_notebook(number: str, title: str, with_nav: bool = True) -> NotebookNode:
    """A small notebook that follows every convention (outputs as if run top to bottom)."""
    n = int(number)
    setup = new_code_cell(
        "import types\n"
        "from poolscope.tutorial.checks import exercise, expect\n"
        "# stands in for `from poolscope.tutorial.checks import nbNN as check`\n"
        "check = types.SimpleNamespace(\n"
        f"    ex{n}_1=exercise('{n}.1', 'The squares')(lambda p: expect(p, [0, 1, 4, 9])),\n"
        f"    ex{n}_2=exercise('{n}.2', 'The total')(lambda t: expect(t, 14)),\n"
        f"    ex{n}_3=exercise('{n}.3', 'Double it')(lambda f: expect(f(3), 6)),\n)",
        metadata={"tags": ["setup"]})
    cells = [
        new_markdown_cell(f"# {number} - {title}"),
        new_markdown_cell("navigation", metadata={"tags": ["nav"]}),
        new_markdown_cell(f"**Questions**\n- What is {title.lower()}?\n- Why square numbers?\n\n"
                          "**Objectives**\n- Square numbers.\n\n"
                          "**Time**: teaching 5 min, exercises 5 min\n\n"
                          "**Versions**: CPython 3.11-3.15; a claim that holds only for "
                          "some versions names them.",
                          metadata={"tags": ["overview"]}),
        setup,
        new_markdown_cell("Predict the result, then run the cell."),
        new_code_cell("squares = [k * k for k in range(4)]\nsquares",
                      outputs=[new_output("execute_result", data={"text/plain": "[0, 1, 4, 9]"},
                                          execution_count=2)]),
        *_exercise(n, 1, "predict", "The squares",
                   "# replace ... with your prediction (a list of numbers)\nprediction = ...",
                   "prediction = [0, 1, 4, 9]", "prediction"),
        new_markdown_cell("The squares of 0, 1, 2, 3: the list comprehension keeps the order.",
                          metadata={"tags": ["answer"]}),
        *_exercise(n, 2, "write", "The total", "total = ...",
                   "total = sum(squares)\nif total > 100:\n    pass", "total"),
        # An indented solution: the student edition must still be valid Python.
        *_exercise(n, 3, "extend", "Double it", "# make double() return twice x\ndef double(x):",
                   "    return x + x", "double", indent="    "),
        new_markdown_cell("This cell fails on purpose."),
        new_code_cell("raise ValueError('shown on purpose')",
                      metadata={"tags": ["raises-exception"]},
                      outputs=[new_output("error", ename="ValueError",
                                          evalue="shown on purpose", traceback=[])]),
        new_markdown_cell("## Key points\n- Squares are easy.", metadata={"tags": ["keypoints"]}),
        new_markdown_cell("navigation", metadata={"tags": ["nav"]}),
    ]
    if not with_nav:
        cells = [c for c in cells if "nav" not in tags(c)]
    nb = new_notebook(cells=cells, metadata={
        "kernelspec": {"display_name": "Python 3 (ipykernel)", "language": "python",
                       "name": "python3"},
        "language_info": {"name": "python"}})
    count = 0
    for i, cell in enumerate(nb.cells):
        cell.id = f"c{i:02d}"  # stable ids: files compare byte for byte
        if cell.cell_type == "code":
            count += 1
            cell.execution_count = count
            # What nbclient records when it runs a cell (nbconvert --execute keeps it).
            cell.metadata["execution"] = {"iopub.status.busy": f"2025-01-01T00:00:{count:02d}Z"}
            for out in cell.outputs:
                if out.output_type == "execute_result":
                    out.execution_count = count
    return nb


FIXTURE_TITLES = {"00": "Squares first", "01": "More squares", "02": "Last squares"}


def write_collection(folder: Path) -> list[Path]:
    """Write the fixture collection (three notebooks and a data file) into ``folder``."""
    folder.mkdir(parents=True, exist_ok=True)
    paths = []
    for number, title in FIXTURE_TITLES.items():
        path = folder / f"{number}-{title.replace(' ', '-')}.ipynb"
        nbformat.write(fixture_notebook(number, title), path)
        paths.append(path)
    (folder / "data").mkdir(exist_ok=True)
    (folder / "data" / "numbers.csv").write_text("n\n1\n2\n")
    (folder / "sanitize.cfg").write_text("[regex1]\nregex: 0x\nreplace: 0x\n")
    (folder / "AUTHORING.md").write_text("# How to write (nbgrader)\n")
    return paths
