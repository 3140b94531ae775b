"""Every exercise of every notebook has a wrong-answer corpus: at least one right answer
and two plausible wrong ones, each wrong one with the hint it must get (see corpus.py).

The exercises are read from the notebooks themselves (their answer cells' grade ids), so a
new exercise without a corpus fails here.
"""

from __future__ import annotations

import importlib
import re
from collections import Counter
from pathlib import Path

import nbformat
import pytest

from corpus import Answer, right, wrong

NOTEBOOKS = Path(__file__).resolve().parents[2] / "notebooks"


def real_notebooks() -> list[Path]:
    return sorted(p for p in NOTEBOOKS.glob("*.ipynb") if re.match(r"\d\d-", p.name))


def exercises(path) -> list[str]:
    """The exercise numbers ("2.3") of a notebook, from its answer cells' grade ids."""
    nb = nbformat.read(path, as_version=4)
    found = []
    for cell in nb.cells:
        meta = cell.get("metadata", {}).get("nbgrader", {})
        if meta.get("solution") and str(meta.get("grade_id", "")).startswith("ex"):
            found.append(meta["grade_id"][2:].replace("_", "."))
    return found


def corpus_of(path) -> list[Answer]:
    module = importlib.import_module(f"test_nb{path.name[:2]}")
    return list(getattr(module, "CORPUS", []))


def gaps(numbers: list[str], corpus: list[Answer]) -> list[str]:
    """What the corpus lacks: exercises with no right or fewer than two wrong answers,
    and labels used twice."""
    rights = Counter(a.exercise for a in corpus if a.solved)
    wrongs = Counter(a.exercise for a in corpus if not a.solved)
    found = [f"{ex}: {rights[ex]} right, {wrongs[ex]} wrong answers"
             for ex in numbers if rights[ex] < 1 or wrongs[ex] < 2]
    found += [f"label used {n} times: {k}" for k, n in Counter(a.id for a in corpus).items()
              if n > 1]
    return found


@pytest.mark.parametrize("path", real_notebooks(), ids=lambda p: p.name[:2])
def test_every_exercise_has_a_corpus(path):
    numbers = exercises(path)
    assert numbers, f"{path.name} has no exercises"
    assert not gaps(numbers, corpus_of(path)), path.name


def test_the_coverage_rule_can_fail():
    enough = [right("9.9", "r", ()), wrong("9.9", "w1", (), hint="h"),
              wrong("9.9", "w2", (), hint="h")]
    assert gaps(["9.9"], enough) == []
    assert gaps(["9.9"], enough[:2]) == ["9.9: 1 right, 1 wrong answers"]
    assert gaps(["9.9"], enough[1:]) == ["9.9: 0 right, 2 wrong answers"]
    assert gaps(["9.9"], enough + enough[-1:]) == ["label used 2 times: 9.9 wrong: w2"]
    with pytest.raises(ValueError, match="needs the hint"):
        wrong("9.9", "no hint", (), hint="")
