"""notebooks/INSTRUCTORS.md agrees with the notebooks and the command line it describes."""

from __future__ import annotations

import re
import subprocess
import sys

import nbformat
import pytest

from nbcollection import NOTEBOOKS, ROOT, real_notebooks, tags
from poolscope.authoring import student

GUIDE = NOTEBOOKS / "INSTRUCTORS.md"
# The overview cell's last line, as notebooks/AUTHORING.md fixes it.
TIME = re.compile(r"\*\*Time\*\*: teaching (\d+) min, exercises (\d+) min")
# A row of the learning-path table: | `NN-Name.ipynb` | step | teaching | exercises |
ROW = re.compile(r"^\|\s*`(\d\d-[^`|]+\.ipynb)`\s*\|[^|]*\|\s*(\d+)\s*\|\s*(\d+)\s*\|\s*$")
TOTAL = re.compile(r"^\|\s*\*\*total\*\*\s*\|[^|]*\|\s*\*\*(\d+)\*\*\s*\|\s*\*\*(\d+)\*\*\s*\|")
COMMAND = re.compile(r"python -m poolscope(?:\s+([A-Za-z_][\w-]*))?")


@pytest.fixture(scope="module")
def guide() -> str:
    return GUIDE.read_text(encoding="utf-8")


def overview_minutes(path) -> tuple[int, int]:
    nb = nbformat.read(path, as_version=4)
    cells = [c for c in nb.cells if "overview" in tags(c)]
    assert len(cells) == 1, f"{path.name}: expected one overview cell"
    found = TIME.findall(cells[0].source)
    assert len(found) == 1, f"{path.name}: no '**Time**: teaching N min, exercises M min'"
    return int(found[0][0]), int(found[0][1])


def table_minutes(text: str) -> dict[str, tuple[int, int]]:
    rows = {}
    for line in text.splitlines():
        match = ROW.match(line)
        if match:
            assert match[1] not in rows, f"{match[1]} twice in the learning-path table"
            rows[match[1]] = (int(match[2]), int(match[3]))
    return rows


def subcommands() -> set[str]:
    done = subprocess.run([sys.executable, "-m", "poolscope", "--help"], capture_output=True,
                          text=True, cwd=ROOT, timeout=120)
    assert done.returncode == 0, done.stderr
    # argparse lists the choices as {demo,student,nav} and each one on a line of its own.
    names = set()
    for braces in re.findall(r"\{([\w,-]+)\}", done.stdout):
        names.update(braces.split(","))
    names.update(re.findall(r"^    ([a-z][\w-]*)\s{2,}\S", done.stdout, re.MULTILINE))
    assert names, done.stdout
    return names


def test_the_guide_is_plain_ascii(guide):
    bad = sorted({ch for ch in guide if ord(ch) > 127})
    assert not bad, f"non-ASCII characters in the guide: {bad}"


@pytest.mark.parametrize("path", real_notebooks(), ids=lambda p: p.stem[:2])
def test_every_notebook_is_mentioned(path, guide):
    assert path.name in guide, f"{path.name} is not mentioned in {GUIDE.name}"


def test_the_table_lists_exactly_the_notebooks(guide):
    assert real_notebooks(), "no notebooks/NN-*.ipynb"
    assert sorted(table_minutes(guide)) == [p.name for p in real_notebooks()]


@pytest.mark.parametrize("path", real_notebooks(), ids=lambda p: p.stem[:2])
def test_the_table_minutes_are_the_overview_minutes(path, guide):
    assert table_minutes(guide).get(path.name) == overview_minutes(path), \
        f"{path.name}: the guide's minutes differ from the overview cell's"


def test_the_total_is_the_sum(guide):
    totals = [TOTAL.match(line) for line in guide.splitlines()]
    totals = [m for m in totals if m]
    assert len(totals) == 1, "the learning-path table needs one **total** row"
    teaching = sum(overview_minutes(p)[0] for p in real_notebooks())
    exercises = sum(overview_minutes(p)[1] for p in real_notebooks())
    assert (int(totals[0][1]), int(totals[0][2])) == (teaching, exercises)
    assert f"{teaching + exercises} minutes" in guide


def test_every_poolscope_command_exists(guide):
    used = COMMAND.findall(guide)
    assert used, "the guide shows no `python -m poolscope` command"
    known = subcommands()
    unknown = sorted({name or "(none)" for name in used} - known)
    assert not unknown, f"the guide uses unknown subcommands {unknown}; known: {sorted(known)}"


def test_the_command_check_can_fail():
    assert COMMAND.findall("run `python -m poolscope teacher notebooks out`") == ["teacher"]
    assert "teacher" not in subcommands()


def test_the_guide_stays_out_of_the_student_edition(tmp_path):
    # The guide quotes solution lines and the markers: it must never reach learners.
    student.write_edition(NOTEBOOKS, tmp_path / "student")
    assert (tmp_path / "student" / "00-Overview.ipynb").exists()
    assert not (tmp_path / "student" / GUIDE.name).exists()
