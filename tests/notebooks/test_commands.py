"""The two commands plug into `python -m poolscope` and import nothing heavy until run."""

from __future__ import annotations

import argparse
import subprocess
import sys

import pytest

from filesystem import hashes, read_only
from nbcollection import ROOT, write_collection
from poolscope.authoring import nav, student


def test_importing_the_commands_does_not_import_nbformat():
    code = ("import sys, poolscope.authoring.nav, poolscope.authoring.student; "
            "assert 'nbformat' not in sys.modules, 'nbformat imported'")
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                          cwd=ROOT, timeout=60)
    assert done.returncode == 0, done.stderr


def test_both_commands_plug_into_one_parser(tmp_path, capsys):
    # As poolscope.__main__ does it: add_NAME(subparsers) sets `run`; args.run(args) -> int.
    parser = argparse.ArgumentParser(prog="poolscope")
    sub = parser.add_subparsers(dest="command", required=True)
    student.add_parser(sub)
    nav.add_parser(sub)
    write_collection(tmp_path / "notebooks")
    for argv in (["nav", str(tmp_path / "notebooks")],
                 ["student", str(tmp_path / "notebooks"), str(tmp_path / "student")],
                 ["nav", "--check", str(tmp_path / "notebooks")]):
        args = parser.parse_args(argv)
        assert args.run(args) == 0, capsys.readouterr()
    args = parser.parse_args(["student", str(tmp_path / "none"), str(tmp_path / "out")])
    assert args.run(args) == 2
    assert capsys.readouterr().err.startswith("poolscope student: error: source directory")


def test_the_helpers_see_a_change_and_refuse_writes(tmp_path):
    (tmp_path / "a.txt").write_text("a")
    before = hashes(tmp_path)
    (tmp_path / "a.txt").write_text("b")
    assert hashes(tmp_path) != before
    with read_only(tmp_path):
        with pytest.raises(OSError):
            (tmp_path / "new.txt").write_text("x")
    (tmp_path / "new.txt").write_text("x")  # writable again afterwards
