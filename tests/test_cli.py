"""``python -m poolscope demo``: end to end in a subprocess, and in-process per method."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

import poolscope
from poolscope.__main__ import main
from poolscope.workloads import METHODS

SRC = str(Path(poolscope.__file__).resolve().parents[1])


def run(*args: str, cwd: Path) -> subprocess.CompletedProcess:
    env = {**os.environ, "PYTHONPATH": SRC, "MPLBACKEND": "Agg"}
    return subprocess.run([sys.executable, "-m", "poolscope", *args], cwd=cwd, env=env,
                          capture_output=True, text=True, timeout=120)


def test_demo_end_to_end(tmp_path):
    done = run("demo", "--workers", "2", "--tasks", "4", "--duration", "0.1",
               "--output", "t.png", "--chrome", "t.json", cwd=tmp_path)
    assert done.returncode == 0, done.stderr
    out = done.stdout
    for text in ("worker 0", "worker 1", "caller", "legend:", "makespan", "wrote t.png",
                 "wrote t.json"):
        assert text in out
    assert (tmp_path / "t.png").read_bytes()[:4] == b"\x89PNG"
    doc = json.loads((tmp_path / "t.json").read_text())
    assert sum(1 for e in doc["traceEvents"] if e["ph"] == "X" and e.get("cat") == "map") == 4


@pytest.mark.parametrize("args, message", [
    (["--workers", "0"], "argument --workers: must be at least 1, got 0"),
    (["--duration", "-1"], "argument --duration: must be at least 0 seconds, got -1"),
    (["--method", "submit"], "argument --method: invalid choice: 'submit'"),
    (["--method", "apply", "--chunksize", "2"], "--chunksize cannot be used with --method apply"),
    (["--tasks", "many"], "argument --tasks: expected a whole number, got 'many'"),
    (["--tick", "0"], "argument --tick: must be more than 0 seconds"),
    (["--duration", "0", "--output", "missing/dir/t.png"], "cannot write missing/dir/t.png"),
])
def test_bad_arguments_give_one_line(tmp_path, args, message):
    done = run("demo", *args, cwd=tmp_path)
    assert done.returncode == 2
    assert done.stderr.startswith(f"poolscope demo: error: {message}")
    assert done.stderr.count("\n") == 1 and "Traceback" not in done.stderr


def test_help(tmp_path):
    done = run("demo", "--help", cwd=tmp_path)
    assert done.returncode == 0 and "--method METHOD" in done.stdout
    assert "imap_unordered" in done.stdout
    top = run(cwd=tmp_path)
    assert top.returncode == 2 and "required: COMMAND" in top.stderr


@pytest.mark.parametrize("method", METHODS)
def test_every_method_runs_every_task(method, tmp_path, capsys):
    chunk = [] if method.startswith("apply") else ["--chunksize", "2"]
    code = main(["demo", "--workers", "2", "--tasks", "5", "--duration", "0", "--method",
                 method, "--output", str(tmp_path / "t.png"), *chunk])
    out = capsys.readouterr().out
    assert code == 0
    assert "tasks            5 (5 completed) on 2 workers" in out
    assert "never started" not in out
