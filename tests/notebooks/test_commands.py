"""The two commands plug into `python -m poolscope` and import nothing heavy until run."""

from __future__ import annotations

import argparse
import contextlib
import hashlib
import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

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


# --- helpers for the tests of bad runs (test_student.py, test_nav.py) --------------------

def hashes(folder: Path) -> dict[str, str]:
    """sha256 of every file under ``folder`` (symlinks listed, not followed): compared
    before and after a bad run, it proves no source file was touched."""
    found = {}
    for path in sorted(folder.rglob("*")):
        rel = path.relative_to(folder).as_posix()
        if path.is_symlink():
            found[rel] = "-> " + os.readlink(path)
        elif path.is_file():
            found[rel] = hashlib.sha256(path.read_bytes()).hexdigest()
        else:
            found[rel] = "dir"
    return found


@contextlib.contextmanager
def read_only(path: Path):
    """Make ``path`` (a directory or a file) refuse writes, even to root, who ignores
    permission bits: ``chmod`` first, then the immutable attribute if that is not
    enough; skip the test if neither works here."""
    def writable() -> bool:
        if path.is_dir():
            try:
                (path / ".probe").touch()
            except OSError:
                return False
            (path / ".probe").unlink()
            return True
        return os.access(path, os.W_OK)

    mode = path.stat().st_mode
    path.chmod(0o555 if path.is_dir() else 0o444)
    immutable = False
    try:
        if writable() and shutil.which("chattr"):
            immutable = subprocess.run(["chattr", "+i", str(path)],
                                       capture_output=True).returncode == 0
        if writable():
            pytest.skip("cannot make a path read-only here")
        yield
    finally:
        if immutable:
            subprocess.run(["chattr", "-i", str(path)], capture_output=True)
        path.chmod(mode)


def test_the_helpers_see_a_change_and_refuse_writes(tmp_path):
    (tmp_path / "a.txt").write_text("a")
    before = hashes(tmp_path)
    (tmp_path / "a.txt").write_text("b")
    assert hashes(tmp_path) != before
    with read_only(tmp_path):
        with pytest.raises(OSError):
            (tmp_path / "new.txt").write_text("x")
    (tmp_path / "new.txt").write_text("x")  # writable again afterwards
