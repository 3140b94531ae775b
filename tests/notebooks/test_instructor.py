"""The instructor edition: its stored checks say "solved!", and nbgrader accepts its markers.

That the committed notebooks also re-execute cleanly is nbval's job in the main test run
(`pytest notebooks`), so here the stored outputs are read, not re-made. nbgrader runs as
a course would use it: a course directory, `generate_assignment`, `validate`.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path

import nbformat
import pytest
from nbformat import NotebookNode

from nbcollection import (fixture_notebook, output_text, over_real_notebooks, real_notebooks,
                          regions, secret_lines, tags)

ASSIGNMENT = "poolscope"


def unsolved_checks(nb: NotebookNode) -> list[str]:
    """Check cells whose stored output does not say "solved!" (or says "not solved yet")."""
    found = []
    for i, cell in enumerate(nb.cells):
        text = output_text(cell) if "check" in tags(cell) else ""
        if "check" in tags(cell) and ("solved!" not in text or "not solved yet" in text):
            found.append(f"cell {i}: {text.strip()!r}")
    return found


@over_real_notebooks
def test_every_stored_check_says_solved(path):
    found = unsolved_checks(nbformat.read(path, as_version=4))
    assert not found, f"{path.name}: checks not solved in the stored outputs:\n  " + \
        "\n  ".join(found)


def test_the_solved_check_can_fail():
    nb = fixture_notebook("01", "X")
    assert unsolved_checks(nb) == []
    nb.cells[8].outputs[0].text = "Exercise 1.1 - The squares: not solved yet.\n"
    nb.cells[12].outputs = []
    assert [f[:7] for f in unsolved_checks(nb)] == ["cell 8:", "cell 12"]


# --- nbgrader -----------------------------------------------------------------------------

def nbgrader(*args: str, cwd: Path) -> subprocess.CompletedProcess:
    pytest.importorskip("nbgrader", reason="nbgrader is in the `test` extra")
    bindir = Path(sys.executable).parent
    script = shutil.which("nbgrader", path=str(bindir))
    command = [script] if script else [sys.executable, "-m", "nbgrader"]
    # As in an activated environment: nbgrader runs `alembic` (its database) from PATH.
    env = {**os.environ, "PATH": f"{bindir}{os.pathsep}{os.environ.get('PATH', '')}"}
    return subprocess.run([*command, *args], cwd=cwd, env=env, capture_output=True, text=True,
                          timeout=600)


@pytest.fixture(scope="module")
def course(tmp_path_factory) -> Path:
    """A course directory whose one assignment is the fixture and the real notebooks."""
    root = tmp_path_factory.mktemp("course")
    source = root / "source" / ASSIGNMENT
    source.mkdir(parents=True)
    nbformat.write(fixture_notebook("99", "Fixture"), source / "99-Fixture.ipynb")
    for path in real_notebooks():
        shutil.copy(path, source / path.name)
    (root / "nbgrader_config.py").write_text(
        f"c = get_config()\nc.CourseDirectory.root = {str(root)!r}\n"
        f"c.CourseDirectory.course_id = {ASSIGNMENT!r}\n")
    done = nbgrader("generate_assignment", ASSIGNMENT, f"--CourseDirectory.root={root}",
                    cwd=root)
    assert done.returncode == 0, done.stdout + done.stderr
    return root


def _instructor_notebooks(course: Path) -> list[Path]:
    return sorted((course / "source" / ASSIGNMENT).glob("*.ipynb"))


def test_generate_assignment_releases_every_notebook(course):
    released = sorted(p.name for p in (course / "release" / ASSIGNMENT).glob("*.ipynb"))
    assert released == [p.name for p in _instructor_notebooks(course)]


@pytest.mark.parametrize("name", ["99-Fixture.ipynb"] + [p.name for p in real_notebooks()])
def test_the_release_has_stubs_where_solutions_were_and_no_hidden_tests(course, name):
    source = nbformat.read(course / "source" / ASSIGNMENT / name, as_version=4)
    release_path = course / "release" / ASSIGNMENT / name
    release = nbformat.read(release_path, as_version=4)
    by_id = {c.metadata.get("nbgrader", {}).get("grade_id"): c for c in release.cells}
    for cell in source.cells:
        gid = cell.metadata.get("nbgrader", {}).get("grade_id")
        if "exercise" in tags(cell):
            stub, rest = cell.source.split("### BEGIN SOLUTION")[0], by_id[gid].source
            assert rest.startswith(stub), f"{name} {gid}: the stub changed"
            assert "# YOUR CODE HERE" in rest and "raise NotImplementedError()" in rest, rest
        if "check" in tags(cell):
            assert regions(cell.source)[0], f"{name} {gid}: no hidden tests to remove"
            assert by_id[gid].source == "\n".join(regions(cell.source)[1]).rstrip()
    raw = release_path.read_text(encoding="utf-8")
    for marker in ("BEGIN SOLUTION", "END SOLUTION", "BEGIN HIDDEN TESTS", "END HIDDEN TESTS"):
        assert marker not in raw, f"{name}: {marker} left in the release"
    leaked = [line for line in secret_lines(source) if line in raw]
    assert not leaked, f"{name}: the release shows {leaked}"


def test_validate_accepts_the_instructor_notebooks_and_not_a_wrong_one(course, tmp_path):
    # nbgrader runs each notebook: the fixture and the first real one (the others are
    # executed by nbval), where the real notebooks live so their data files are found;
    # and, to show it can fail, the fixture with a wrong solution.
    wrong = fixture_notebook("99", "Fixture")
    wrong.cells[7].source = wrong.cells[7].source.replace("[0, 1, 4, 9]", "[1]")
    nbformat.write(wrong, tmp_path / "wrong.ipynb")
    good = [course / "source" / ASSIGNMENT / "99-Fixture.ipynb", *real_notebooks()[:1]]
    done = nbgrader("validate", *map(str, good), str(tmp_path / "wrong.ipynb"), cwd=course)
    report = done.stdout + done.stderr
    # `validate` exits 0 even when a test fails: read what it says, notebook by notebook.
    assert done.returncode == 0, report
    assert done.stdout.count("Success! Your notebook passes all the tests.") == len(good), report
    assert done.stdout.count("VALIDATION FAILED ON 1 CELL(S)") == 1, report
    # Notebooks are reported in order: the failure is the last one's.
    assert done.stdout.rfind("VALIDATION FAILED") > done.stdout.rfind("Success!"), report
