"""Filesystem helpers for the tests of bad runs (the CLI's demo, ``student``, ``nav``):
prove a run touched no source file, and make a path refuse writes.

    >>> import tempfile; folder = Path(tempfile.mkdtemp())
    >>> _ = (folder / "a.txt").write_text("a"); list(hashes(folder))
    ['a.txt']
"""

from __future__ import annotations

import contextlib
import hashlib
import os
import shutil
import subprocess
from pathlib import Path

import pytest


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
