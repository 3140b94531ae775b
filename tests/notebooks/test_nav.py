"""Navigation, Index.ipynb and the README's contents: links, idempotence, errors, drift."""

from __future__ import annotations

import re
import shutil
from pathlib import Path

import nbformat
import pytest

from nbcollection import NOTEBOOKS, ROOT, fixture_notebook, real_notebooks, tags, write_collection
from poolscope.authoring import nav
from filesystem import read_only

LINK = re.compile(r"\]\(([^)]+)\)")
NAMES = ["00-Squares-first.ipynb", "01-More-squares.ipynb", "02-Last-squares.ipynb"]


@pytest.fixture
def collection(tmp_path) -> Path:
    folder = tmp_path / "notebooks"
    write_collection(folder)
    (tmp_path / "README.md").write_text(
        "# Course\n\nIntro.\n\n<!-- contents -->\nold table\n<!-- /contents -->\n\nThe end.\n")
    return folder


def snapshot(folder: Path) -> dict[str, bytes]:
    return {p.relative_to(folder.parent).as_posix(): p.read_bytes()
            for p in sorted(folder.parent.rglob("*")) if p.is_file()}


def test_nav_cells_link_previous_contents_and_next(collection):
    assert nav.main([str(collection)]) == 0
    expected = [
        "[Contents](Index.ipynb) | [01 - More squares](01-More-squares.ipynb) >",
        "< [00 - Squares first](00-Squares-first.ipynb) | [Contents](Index.ipynb) | "
        "[02 - Last squares](02-Last-squares.ipynb) >",
        "< [01 - More squares](01-More-squares.ipynb) | [Contents](Index.ipynb)",
    ]
    for name, line in zip(NAMES, expected):
        nb = nbformat.read(collection / name, as_version=4)
        assert nb.cells[1].source == nb.cells[-1].source == line
        assert "nav" in tags(nb.cells[1]) and "nav" in tags(nb.cells[-1])


def test_every_link_points_to_a_notebook_that_exists(collection):
    assert nav.main([str(collection)]) == 0
    for path in sorted(collection.glob("*.ipynb")):
        for cell in nbformat.read(path, as_version=4).cells:
            if cell.cell_type == "markdown":
                for target in LINK.findall(cell.source):
                    assert (collection / target).is_file(), f"{path.name}: {target}"
    readme = (collection.parent / "README.md").read_text()
    for target in LINK.findall(readme):
        assert (collection.parent / target).is_file(), target


def test_only_the_navigation_changes(collection):
    before = {n: nbformat.read(collection / n, as_version=4) for n in NAMES}
    assert nav.main([str(collection)]) == 0
    for name, old in before.items():
        new = nbformat.read(collection / name, as_version=4)
        assert new.metadata == old.metadata
        assert len(new.cells) == len(old.cells)
        for i, (a, b) in enumerate(zip(old.cells, new.cells)):
            if i not in (1, len(old.cells) - 1):
                assert a == b, f"{name} cell {i} changed"  # outputs, counts, ids, metadata


def test_the_index_lists_each_notebook_with_its_questions(collection):
    assert nav.main([str(collection)]) == 0
    index = nbformat.read(collection / "Index.ipynb", as_version=4)
    contents = next(c.source for c in index.cells if c.source.startswith("## Contents"))
    assert contents.splitlines()[2:] == [
        "- [00 - Squares first](00-Squares-first.ipynb): What is squares first? "
        "Why square numbers?",
        "- [01 - More squares](01-More-squares.ipynb): What is more squares? Why square numbers?",
        "- [02 - Last squares](02-Last-squares.ipynb): What is last squares? Why square numbers?",
    ]
    note = [c for c in index.cells if "instructor" in tags(c)]
    assert len(note) == 1 and nav.STUDENT_COMMAND in note[0].source
    assert all(c.cell_type == "markdown" for c in index.cells)  # nothing for nbval to run


def test_the_readme_table_is_rewritten_between_the_markers(collection):
    assert nav.main([str(collection)]) == 0
    assert (collection.parent / "README.md").read_text() == (
        "# Course\n\nIntro.\n\n<!-- contents -->\n"
        "| notebook | questions |\n|---|---|\n"
        "| [00 - Squares first](notebooks/00-Squares-first.ipynb) | What is squares first? "
        "Why square numbers? |\n"
        "| [01 - More squares](notebooks/01-More-squares.ipynb) | What is more squares? "
        "Why square numbers? |\n"
        "| [02 - Last squares](notebooks/02-Last-squares.ipynb) | What is last squares? "
        "Why square numbers? |\n"
        "<!-- /contents -->\n\nThe end.\n")


def test_a_second_run_changes_no_byte_and_check_agrees(collection, capsys):
    assert nav.main([str(collection)]) == 0
    first = snapshot(collection)
    assert nav.main([str(collection)]) == 0
    assert snapshot(collection) == first
    assert capsys.readouterr().out.endswith("nothing to change\n")
    assert nav.main(["--check", str(collection)]) == 0


def test_check_writes_nothing_and_lists_the_drift(collection, capsys):
    assert nav.main([str(collection)]) == 0
    nb = nbformat.read(collection / NAMES[1], as_version=4)
    nb.cells[0].source = "# 01 - Renamed"
    nbformat.write(nb, collection / NAMES[1])
    before = snapshot(collection)
    capsys.readouterr()
    assert nav.main(["--check", str(collection)]) == 1
    assert snapshot(collection) == before
    out = capsys.readouterr().out
    for name in (NAMES[0], NAMES[2], "Index.ipynb", "README.md"):
        assert name in out
    assert NAMES[1] not in out  # its own navigation does not mention its title


def test_missing_nav_cells_are_inserted(tmp_path):
    for number, title in (("00", "One"), ("01", "Two")):
        nbformat.write(fixture_notebook(number, title, with_nav=False),
                       tmp_path / f"{number}-{title}.ipynb")
    assert nav.main([str(tmp_path), "--readme", str(tmp_path / "none.md")]) == 0
    nb = nbformat.read(tmp_path / "00-One.ipynb", as_version=4)
    line = "[Contents](Index.ipynb) | [01 - Two](01-Two.ipynb) >"
    assert nb.cells[1].source == nb.cells[-1].source == line
    assert nb.cells[0].source == "# 00 - One" and "overview" in tags(nb.cells[2])
    assert (nb.cells[1].id, nb.cells[-1].id) == ("nav-top", "nav-bottom")
    assert nav.main(["--check", str(tmp_path), "--readme", str(tmp_path / "none.md")]) == 0


def _fails(capsys, *argv: str) -> str:
    assert nav.main(list(argv)) == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and "Traceback" not in err, err
    return err


@pytest.mark.parametrize("title", ["Intro", "# 01 - ", "# 1 - Short number", "# 01 – En dash",
                                   "# 01 - Title\n\nMore text"])
def test_a_notebook_without_a_title_cell_is_a_clear_error(collection, capsys, title):
    nb = nbformat.read(collection / NAMES[1], as_version=4)
    nb.cells[0].source = title
    nbformat.write(nb, collection / NAMES[1])
    before = snapshot(collection)
    err = _fails(capsys, str(collection))
    assert f"{NAMES[1]}: cell 0 must be a markdown title cell '# NN - Title'" in err
    assert snapshot(collection) == before


def test_other_errors(collection, capsys, tmp_path):
    nb = nbformat.read(collection / NAMES[1], as_version=4)
    nb.cells[0].source = "# 07 - More squares"
    nbformat.write(nb, collection / NAMES[1])
    assert "the title says 07" in _fails(capsys, str(collection))
    nb.cells[0].source = "# 01 - More squares"
    nb.cells[3].metadata["tags"] = ["nav"]
    nbformat.write(nb, collection / NAMES[1])
    assert "cell 3 is tagged nav" in _fails(capsys, str(collection))
    assert "no NN-*.ipynb" in _fails(capsys, str(tmp_path))
    assert "does not exist" in _fails(capsys, str(tmp_path / "nowhere"))


def _rename(collection: Path) -> None:
    """Retitle notebook 01, so a run must rewrite notebooks 00 and 02, Index.ipynb and
    the README: a run that stops half-way would leave some of them changed."""
    assert nav.main([str(collection)]) == 0
    nb = nbformat.read(collection / NAMES[1], as_version=4)
    nb.cells[0].source = "# 01 - Renamed"
    nbformat.write(nb, collection / NAMES[1])


def _bad_run(capsys, collection: Path, message: str) -> None:
    """One line, exit code 2, and not one byte changed anywhere."""
    capsys.readouterr()
    before = snapshot(collection)
    assert message in _fails(capsys, str(collection))
    assert snapshot(collection) == before


def test_a_readme_that_is_not_utf8_is_one_line(collection, capsys):
    _rename(collection)
    readme = collection.parent / "README.md"
    readme.write_bytes("Caf\xe9\n<!-- contents -->\n<!-- /contents -->\n".encode("latin-1"))
    _bad_run(capsys, collection, "README.md: not UTF-8 text")


def test_an_index_that_is_a_directory_is_one_line(collection, capsys):
    _rename(collection)
    shutil.rmtree(collection / "Index.ipynb", ignore_errors=True)
    (collection / "Index.ipynb").unlink(missing_ok=True)
    (collection / "Index.ipynb").mkdir()
    _bad_run(capsys, collection, "Index.ipynb is a directory")


def test_an_unwritable_folder_changes_nothing(collection, capsys):
    _rename(collection)
    (collection / "Index.ipynb").unlink()  # so the run must create a file there
    with read_only(collection):
        _bad_run(capsys, collection, "cannot write")


def test_an_unwritable_readme_changes_nothing(collection, capsys):
    _rename(collection)
    with read_only(collection.parent / "README.md"):
        _bad_run(capsys, collection, "cannot write README.md")


def test_a_notebook_that_is_a_symbolic_link_stays_one(collection, tmp_path):
    shared = tmp_path / "shared"
    shared.mkdir()
    (collection / NAMES[2]).rename(shared / NAMES[2])
    (collection / NAMES[2]).symlink_to(shared / NAMES[2])
    _rename(collection)
    assert nav.main([str(collection)]) == 0
    assert (collection / NAMES[2]).is_symlink()
    nb = nbformat.read(shared / NAMES[2], as_version=4)
    assert "[01 - Renamed]" in nb.cells[1].source


def test_a_readme_without_markers_is_left_alone(collection, capsys):
    readme = collection.parent / "README.md"
    readme.write_text("# Course\n\nNo markers.\n")
    assert nav.main([str(collection)]) == 0
    assert readme.read_text() == "# Course\n\nNo markers.\n"
    out = capsys.readouterr().out
    assert "no <!-- contents --> ... <!-- /contents --> markers, left alone" in out
    readme.write_text("<!-- contents -->\nno end marker\n")
    assert "once each" in _fails(capsys, str(collection))
    readme.write_text("<!-- /contents -->\n<!-- contents -->\n")
    assert "in that order" in _fails(capsys, str(collection))


def test_the_real_notebooks_have_no_drift(capsys):
    if not real_notebooks():
        pytest.skip("no notebooks/NN-*.ipynb exist yet")
    code = nav.main(["--check", str(NOTEBOOKS), "--readme", str(ROOT / "README.md")])
    out = capsys.readouterr().out
    assert code == 0, f"run `python -m poolscope nav notebooks`:\n{out}"


def test_readme_markers_must_appear_once_each(collection, capsys):
    readme = collection.parent / "README.md"
    readme.write_text("<!-- contents -->\n<!-- /contents -->\n" * 2)
    assert "once each" in _fails(capsys, str(collection))


def test_two_notebooks_with_one_number_are_an_error(collection, capsys):
    nb = nbformat.read(collection / NAMES[1], as_version=4)
    nbformat.write(nb, collection / "01-Again.ipynb")
    assert "01-Again.ipynb and 01-More-squares.ipynb share the number 01" in _fails(
        capsys, str(collection))


def resources_page(folder: Path, title: str = "# Further resources") -> None:
    from nbformat.v4 import new_markdown_cell, new_notebook
    nb = new_notebook(cells=[
        new_markdown_cell(title),
        new_markdown_cell("**Questions**\n- Where next?", metadata={"tags": ["overview"]}),
        new_markdown_cell("See the docs."),
    ])
    nbformat.write(nb, folder / nav.RESOURCES)


def test_the_resources_page_follows_the_last_notebook(collection):
    resources_page(collection)
    assert nav.main([str(collection)]) == 0
    last = nbformat.read(collection / NAMES[-1], as_version=4)
    assert last.cells[1].source == (
        "< [01 - More squares](01-More-squares.ipynb) | [Contents](Index.ipynb) | "
        "[Further resources](Further-Resources.ipynb) >")
    page = nbformat.read(collection / nav.RESOURCES, as_version=4)
    assert [c.source for c in page.cells] == [
        "# Further resources",
        "< [02 - Last squares](02-Last-squares.ipynb) | [Contents](Index.ipynb)",
        "**Questions**\n- Where next?", "See the docs.",
        "< [02 - Last squares](02-Last-squares.ipynb) | [Contents](Index.ipynb)"]
    index = nbformat.read(collection / "Index.ipynb", as_version=4)
    contents = next(c.source for c in index.cells if c.source.startswith("## Contents"))
    assert contents.splitlines()[-1] == "- [Further resources](Further-Resources.ipynb): Where next?"
    assert "| [Further resources](notebooks/Further-Resources.ipynb) | Where next? |" in (
        collection.parent / "README.md").read_text()


def test_a_resources_page_with_another_title_is_a_clear_error(collection, capsys):
    resources_page(collection, "# More to read")
    assert nav.main([str(collection)]) == 2
    err = capsys.readouterr().err
    assert "Further-Resources.ipynb: cell 0 must be the markdown title cell" in err
    assert "Traceback" not in err
