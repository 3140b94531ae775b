"""``python -m poolscope demo``: end to end in a subprocess, and in-process per method."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

import poolscope
from filesystem import read_only
from poolscope.__main__ import main
from poolscope.tutorial.workloads import METHODS

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
    (["--workers", "0"], "workers must be a whole number from 1 to 64 (got 0)"),
    (["--workers", "100000"], "workers must be a whole number from 1 to 64 (got 100,000)"),
    (["--tasks", "10000000"], "tasks must be a whole number from 1 to 1,000 (got 10,000,000)"),
    (["--duration", "-1"], "duration must be a number of seconds >= 0 (got -1)"),
    (["--duration", "nan"], "duration must be a number of seconds >= 0 (got nan)"),
    (["--duration", "100"], "this would take about 300 s; keep it under 60 s"),
    (["--duration", "1", "--tasks", "100", "--work", "cpu"], "this would take about 100 s"),
    (["--method", "submit"], "argument --method: invalid choice: 'submit'"),
    (["--method", "apply", "--chunksize", "2"], "chunksize cannot be used with apply"),
    (["--chunksize", "0"], "chunksize must be a whole number >= 1, or None (got 0)"),
    (["--tasks", "many"], "argument --tasks: expected a whole number, got 'many'"),
    (["--tick", "0"], "tick must be a number of seconds from 0.001 to 60 (got 0)"),
    (["--tick", "1e-9"], "tick must be a number of seconds from 0.001 to 60 (got 1e-09)"),
    (["--tick", "inf"], "tick must be a number of seconds from 0.001 to 60 (got inf)"),
    (["--tick", "x"], "argument --tick: expected seconds, got 'x'"),
    (["--duration", "2", "--tick", "0.001"], "--tick 0.001 is too fine for a run of about "
                                             "6 s: rows of 6,000 characters"),
    (["--duration", "0", "--output", "missing/dir/t.png"],
     "cannot write missing/dir/t.png: no directory missing/dir"),
    (["--duration", "0", "--chrome", "missing/t.json"],
     "cannot write missing/t.json: no directory missing"),
    (["--duration", "0", "--output", "file.txt/t.png"],
     "cannot write file.txt/t.png: file.txt is not a directory"),
    (["--duration", "0", "--output", "."], "cannot write .: it is a directory"),
])
def test_bad_arguments_give_one_line_and_run_nothing(tmp_path, args, message):
    (tmp_path / "file.txt").write_text("a file, not a directory")
    done = run("demo", *args, cwd=tmp_path)
    assert done.returncode == 2
    assert done.stderr.startswith(f"poolscope demo: error: {message}"), done.stderr
    assert done.stderr.count("\n") == 1 and "Traceback" not in done.stderr
    assert done.stdout == ""  # no workload ran, nothing was drawn
    assert sorted(p.name for p in tmp_path.iterdir()) == ["file.txt"]  # nothing written


def test_an_unwritable_output_directory_is_found_before_the_run(tmp_path):
    out = tmp_path / "out"
    out.mkdir()
    with read_only(out):
        done = run("demo", "--duration", "0", "--output", "out/t.png", cwd=tmp_path)
    assert done.returncode == 2 and done.stdout == ""
    assert done.stderr.startswith("poolscope demo: error: cannot write out/t.png: ")
    assert done.stderr.count("\n") == 1 and list(out.iterdir()) == []


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
