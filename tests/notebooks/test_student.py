"""The student edition: what it removes, what it keeps, its errors, and that nothing leaks."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import nbformat
import pytest

from nbcollection import (NOTEBOOKS, ROOT, fixture_notebook, leaks, over_real_notebooks,
                          real_notebooks, secret_lines, tags, write_collection)
from poolscope.authoring import student
from poolscope.authoring._common import AuthoringError
from filesystem import hashes, read_only


def test_a_solution_becomes_the_stub_alone():
    source = "# Exercise 1.1: replace ...\nx = ...\n### BEGIN SOLUTION\nx = 42\n### END SOLUTION"
    assert student.clear_regions(source) == (
        "# Exercise 1.1: replace ...\nx = ...\n# YOUR CODE HERE", 1, 0)


def test_an_indented_solution_leaves_valid_python():
    source = "def f(x):\n    ### BEGIN SOLUTION\n    return x\n    ### END SOLUTION\ny = f(1)"
    cleared, solutions, _ = student.clear_regions(source)
    assert cleared == "def f(x):\n    # YOUR CODE HERE\n    pass\ny = f(1)"
    compile(cleared, "<cell>", "exec")


def test_hidden_tests_disappear_and_markdown_gets_the_text_stub():
    check = "check.ex1_1(x);\n### BEGIN HIDDEN TESTS\nassert check.ex1_1(x, quiet=True)\n" \
            "### END HIDDEN TESTS\n"
    assert student.clear_regions(check) == ("check.ex1_1(x);", 0, 1)
    text = "Because:\n### BEGIN SOLUTION\nit blocks\n### END SOLUTION"
    assert student.clear_regions(text, code=False) == ("Because:\nYOUR ANSWER HERE", 1, 0)


@pytest.mark.parametrize("source, message", [
    ("### BEGIN SOLUTION\nx = 1", "BEGIN SOLUTION without END SOLUTION"),
    ("x = 1\n### END SOLUTION", "line 2: END SOLUTION without BEGIN SOLUTION"),
    ("### BEGIN SOLUTION\n### BEGIN SOLUTION\n### END SOLUTION", "line 2: BEGIN SOLUTION inside"),
    ("### BEGIN HIDDEN TESTS\n### END SOLUTION", "line 2: END SOLUTION without"),
    ("### BEGIN SOLUTION\n### END HIDDEN TESTS", "line 2: END HIDDEN TESTS without"),
])
def test_unbalanced_markers_are_named(source, message):
    with pytest.raises(AuthoringError, match=message):
        student.clear_regions(source)


def test_the_student_notebook_keeps_stubs_and_drops_the_instructor_parts():
    nb = fixture_notebook("01", "More squares")
    original = nbformat.writes(nb)
    edition, solutions, hidden = student.student_notebook(nb)
    assert (solutions, hidden) == (3, 3)
    assert nbformat.writes(nb) == original, "the instructor notebook must not change"
    assert len(edition.cells) == len(nb.cells) - 1  # the `answer` cell is left out
    assert not any("answer" in tags(c) for c in edition.cells)
    kept = {c.id: c for c in edition.cells}
    for cell in nb.cells:
        if cell.id not in kept:
            continue
        new = kept[cell.id]
        assert "nbgrader" not in new.metadata
        assert not {"exercise", "check"} & set(tags(new))
        if {"exercise", "check"} & set(tags(cell)):
            assert new.outputs == [] and new.execution_count is None
            assert new.metadata == {}  # no folding (the stub is visible), no timings
        elif cell.cell_type == "code":  # other cells keep what nbval compares
            assert new.outputs == cell.outputs
            assert new.execution_count == cell.execution_count
            assert tags(new) == tags(cell)  # e.g. raises-exception stays
    exercise = next(c for c in edition.cells if c.source.startswith("# replace"))
    assert exercise.source == ("# replace ... with your prediction (a list of numbers)\n"
                               "prediction = ...\n# YOUR CODE HERE")


def test_the_command_writes_the_edition_and_a_summary(tmp_path, capsys):
    write_collection(tmp_path / "src")
    assert student.main([str(tmp_path / "src"), str(tmp_path / "out")]) == 0
    assert capsys.readouterr().out.strip() == (
        f"student edition in {tmp_path / 'out'}: 3 notebooks, 9 solutions and 9 hidden "
        "tests removed, 1 other files copied")
    written = sorted(p.relative_to(tmp_path / "out").as_posix()
                     for p in (tmp_path / "out").rglob("*") if p.is_file())
    assert written == [".poolscope-student", "00-Squares-first.ipynb", "01-More-squares.ipynb",
                       "02-Last-squares.ipynb", "data/numbers.csv"]


def test_a_second_run_replaces_its_own_edition(tmp_path):
    write_collection(tmp_path / "src")
    args = [str(tmp_path / "src"), str(tmp_path / "out")]
    assert student.main(args) == 0
    (tmp_path / "out" / "stale.ipynb").write_text("{}")
    assert student.main(args) == 0
    assert not (tmp_path / "out" / "stale.ipynb").exists()


def _fails(capsys, *argv: str) -> str:
    assert student.main([str(a) for a in argv]) == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and "Traceback" not in err, err
    return err


def test_errors_are_one_line(tmp_path, capsys):
    src = tmp_path / "src"
    write_collection(src)
    assert "does not exist" in _fails(capsys, tmp_path / "nothing", tmp_path / "out")
    assert "is inside SOURCE_DIR" in _fails(capsys, src, src / "student")
    assert "is inside SOURCE_DIR" in _fails(capsys, src, src)
    assert "contains SOURCE_DIR" in _fails(capsys, src, tmp_path)
    (tmp_path / "mine").mkdir()
    (tmp_path / "mine" / "work.txt").write_text("my work")
    assert "not written by" in _fails(capsys, src, tmp_path / "mine")
    assert (tmp_path / "mine" / "work.txt").read_text() == "my work"


def test_unbalanced_markers_name_the_notebook_and_cell_and_write_nothing(tmp_path, capsys):
    src = tmp_path / "src"
    paths = write_collection(src)
    nb = nbformat.read(paths[1], as_version=4)
    nb.cells[7].source = nb.cells[7].source.replace("### END SOLUTION", "")
    nbformat.write(nb, paths[1])
    err = _fails(capsys, src, tmp_path / "out")
    assert "01-More-squares.ipynb: cell 7: BEGIN SOLUTION without END SOLUTION" in err
    assert not (tmp_path / "out").exists()


# --- bad runs: a one-line error, no half-written edition, no source file touched ---------

def _bad_run(capsys, src: Path, out: Path, message: str) -> None:
    """Run the command, expect ``message`` as its one-line error, and check that no
    source file changed and no temporary directory was left beside OUT."""
    before = hashes(src)
    beside = sorted(p.name for p in out.parent.iterdir()) if out.parent.is_dir() else None
    assert message in _fails(capsys, src, out)
    assert hashes(src) == before
    if beside is not None:
        assert sorted(p.name for p in out.parent.iterdir()) == beside


def test_an_unwritable_place_for_out_is_one_line(tmp_path, capsys):
    src = tmp_path / "src"
    write_collection(src)
    (tmp_path / "ro").mkdir()
    with read_only(tmp_path / "ro"):
        _bad_run(capsys, src, tmp_path / "ro" / "student", "cannot write OUT_DIR")
    assert list((tmp_path / "ro").iterdir()) == []
    (tmp_path / "file").write_text("not a directory")
    _bad_run(capsys, src, tmp_path / "file" / "student", "cannot write OUT_DIR")


def test_out_as_a_symbolic_link_is_refused(tmp_path, capsys):
    src = tmp_path / "src"
    write_collection(src)
    (tmp_path / "elsewhere").mkdir()
    (tmp_path / "out").symlink_to(tmp_path / "elsewhere")
    _bad_run(capsys, src, tmp_path / "out", "is a symbolic link")
    assert list((tmp_path / "elsewhere").iterdir()) == []
    (tmp_path / "to-src").symlink_to(src)
    _bad_run(capsys, src, tmp_path / "to-src", "OUT_DIR")


def test_a_source_reached_through_a_symbolic_link_in_out_is_refused(tmp_path, capsys):
    src = tmp_path / "src"
    write_collection(src)
    out = tmp_path / "out"
    assert student.main([str(src), str(out)]) == 0
    capsys.readouterr()
    (out / "link").symlink_to(src)  # OUT_DIR/link/... is the source
    edition = hashes(out)
    _bad_run(capsys, out / "link", out, "contains SOURCE_DIR")
    assert hashes(out) == edition


def test_a_file_that_cannot_be_copied_leaves_the_earlier_edition_whole(tmp_path, capsys):
    src = tmp_path / "src"
    write_collection(src)
    out = tmp_path / "out"
    assert student.main([str(src), str(out)]) == 0
    capsys.readouterr()
    edition = hashes(out)
    (src / "data" / "gone.csv").symlink_to(tmp_path / "nowhere.csv")  # a broken link
    _bad_run(capsys, src, out, "data/gone.csv: cannot copy")
    assert hashes(out) == edition  # the earlier edition, every byte of it
    (src / "data" / "gone.csv").unlink()
    os.mkfifo(src / "data" / "pipe")  # would block a naive copy
    _bad_run(capsys, src, out, "data/pipe: cannot copy")
    assert hashes(out) == edition


def test_a_first_edition_that_fails_leaves_no_out_at_all(tmp_path, capsys):
    src = tmp_path / "src"
    write_collection(src)
    (src / "data" / "gone.csv").symlink_to(tmp_path / "nowhere.csv")
    _bad_run(capsys, src, tmp_path / "out", "data/gone.csv: cannot copy")
    assert not (tmp_path / "out").exists()


def test_odd_but_valid_sources_give_a_whole_edition(tmp_path, capsys):
    src = tmp_path / "src"
    write_collection(src)
    (src / "README.md").write_bytes("Caf\xe9 in Latin-1\n".encode("latin-1"))  # not UTF-8
    (src / "Index.ipynb").mkdir()  # a directory with a notebook's name
    before = hashes(src)
    assert student.main([str(src), str(tmp_path / "out")]) == 0
    assert hashes(src) == before
    assert (tmp_path / "out" / "README.md").read_bytes() == (src / "README.md").read_bytes()
    assert (tmp_path / "out" / "01-More-squares.ipynb").is_file()


def test_a_notebook_that_is_not_utf8_is_one_line(tmp_path, capsys):
    src = tmp_path / "src"
    paths = write_collection(src)
    paths[1].write_bytes(paths[1].read_bytes().replace(b"More squares", b"Mor\xe9 squares"))
    _bad_run(capsys, src, tmp_path / "out", "01-More-squares.ipynb: not a readable notebook")
    assert not (tmp_path / "out").exists()


def test_it_runs_as_a_module(tmp_path):
    write_collection(tmp_path / "src")
    done = subprocess.run([sys.executable, "-m", "poolscope.authoring.student",
                           str(tmp_path / "src"), str(tmp_path / "out")],
                          capture_output=True, text=True, cwd=ROOT, timeout=120)
    assert done.returncode == 0, done.stderr
    assert "3 notebooks" in done.stdout


# --- nothing of a solution leaks --------------------------------------------------------

def test_the_leak_check_can_fail_and_ignores_public_lines():
    nb = fixture_notebook("01", "More squares")
    secrets = secret_lines(nb)
    # `pass` is too short to mean anything; `prediction = ...` is the stub, outside.
    assert secrets == {"prediction = [0, 1, 4, 9]", "total = sum(squares)",
                       "if total > 100:", "return x + x",
                       "assert check.ex1_1(prediction, quiet=True)",
                       "assert check.ex1_2(total, quiet=True)",
                       "assert check.ex1_3(double, quiet=True)"}
    found = leaks(nbformat.writes(nb), secrets)
    assert {"BEGIN SOLUTION", "nbgrader", "return x + x"} <= set(found)
    # A signature shown in a stub's comment is public, though part of a longer line.
    nb.cells[7].source = "# write: total = sum(squares) in a cell\n" + nb.cells[7].source
    assert "total = sum(squares)" not in secret_lines(nb)


def _assert_no_leaks(instructor: Path, edition: Path) -> None:
    raw = edition.read_text(encoding="utf-8")
    found = leaks(raw, secret_lines(nbformat.read(instructor, as_version=4)))
    assert not found, f"{edition.name} (student edition) shows {found}"


def test_the_fixture_edition_leaks_nothing(tmp_path):
    paths = write_collection(tmp_path / "src")
    student.write_edition(tmp_path / "src", tmp_path / "out")
    for path in paths:
        _assert_no_leaks(path, tmp_path / "out" / path.name)
    for text_file in (tmp_path / "out").rglob("*"):
        if text_file.is_file():
            assert "nbgrader" not in text_file.read_text(encoding="utf-8").lower()


@pytest.fixture(scope="module")
def real_edition(tmp_path_factory) -> Path:
    out = tmp_path_factory.mktemp("edition") / "student"
    if real_notebooks():
        student.write_edition(NOTEBOOKS, out)
    return out


@over_real_notebooks
def test_the_real_edition_leaks_nothing(path, real_edition):
    _assert_no_leaks(path, real_edition / path.name)


def test_no_file_of_the_real_edition_mentions_nbgrader(real_edition):
    if not real_notebooks():
        pytest.skip("no notebooks/NN-*.ipynb exist yet")
    for path in sorted(real_edition.rglob("*.ipynb")):
        found = leaks(path.read_text(encoding="utf-8"), set())
        assert not found, f"{path.name} (student edition) shows {found}"
