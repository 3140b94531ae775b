"""The student edition runs top to bottom, and every check says "not solved yet".

Each notebook runs in a fresh kernel (nbclient), as a learner's "Run All" would; this is
the slow module of the notebook tests (a few seconds per notebook).
"""

from __future__ import annotations

from pathlib import Path

import nbclient
import nbformat
import pytest
from nbformat import NotebookNode

from nbcollection import (NOTEBOOKS, fixture_notebook, output_text, over_real_notebooks,
                          real_notebooks, tags, write_collection)
from poolscope.authoring import student


def run(path: Path) -> NotebookNode:
    nb = nbformat.read(path, as_version=4)
    client = nbclient.NotebookClient(nb, timeout=60, kernel_name="python3",
                                     resources={"metadata": {"path": str(path.parent)}})
    return client.execute()


def check_cells(instructor: NotebookNode, edition: NotebookNode) -> list[tuple[int, NotebookNode]]:
    """The edition's check cells with their instructor index, found by position.

    The edition keeps every cell but those tagged `answer` or `instructor`, in order.
    """
    kept = [(i, c) for i, c in enumerate(instructor.cells)
            if not {"answer", "instructor"} & set(tags(c))]
    assert len(kept) == len(edition.cells), "the edition lost or gained cells"
    return [(i, new) for (i, old), new in zip(kept, edition.cells) if "check" in tags(old)]


def assert_runs_unsolved(instructor_path: Path, edition_path: Path) -> None:
    instructor = nbformat.read(instructor_path, as_version=4)
    ran = run(edition_path)
    for i, cell in enumerate(ran.cells):
        if cell.cell_type == "code" and "raises-exception" not in tags(cell):
            errors = [o for o in cell.outputs if o.output_type == "error"]
            assert not errors, f"{edition_path.name} cell {i}: {output_text(cell)}"
    checks = check_cells(instructor, ran)
    assert checks, f"{instructor_path.name} has no check cells"
    for i, cell in checks:
        assert "not solved yet" in output_text(cell), (
            f"{edition_path.name}: the check at instructor cell {i} printed "
            f"{output_text(cell)!r}, not 'not solved yet'")


@pytest.fixture(scope="module")
def editions(tmp_path_factory) -> dict[str, Path]:
    """The student editions of the fixture collection and of notebooks/ (if any)."""
    base = tmp_path_factory.mktemp("editions")
    write_collection(base / "fixture")
    student.write_edition(base / "fixture", base / "fixture-student")
    if real_notebooks():
        student.write_edition(NOTEBOOKS, base / "student")
    return {"fixture": base / "fixture", "fixture-student": base / "fixture-student",
            "student": base / "student"}


def test_the_fixture_edition_runs_unsolved(editions):
    for path in sorted(editions["fixture"].glob("0[01]-*.ipynb")):
        assert_runs_unsolved(path, editions["fixture-student"] / path.name)


def test_the_check_can_fail_on_a_solved_notebook(tmp_path):
    # An instructor notebook is solved: its checks say "solved!", so the check must fail.
    nb = fixture_notebook("00", "Squares first")
    nb.cells = [c for c in nb.cells if "answer" not in tags(c)]
    nbformat.write(nb, tmp_path / "solved.ipynb")
    with pytest.raises(AssertionError, match="not 'not solved yet'"):
        assert_runs_unsolved(tmp_path / "solved.ipynb", tmp_path / "solved.ipynb")


@over_real_notebooks
def test_the_real_edition_runs_unsolved(path, editions):
    assert_runs_unsolved(path, editions["student"] / path.name)
