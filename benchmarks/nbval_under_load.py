"""nbval on the notebooks while busy-loop processes compete for the CPU: a loaded classroom hub.

    python benchmarks/nbval_under_load.py                     # 2 hogs, 3 runs, every notebook
    python benchmarks/nbval_under_load.py --hogs 2 --runs 1 notebooks/07-*.ipynb

Not a test (it takes minutes and measures the machine as much as the notebooks): it reports,
for each run, the cells of each notebook whose stored outputs nbval found changed, so that an
output or a check that load can flip shows up. The goal is 0 failures in every run. Each
hog is ``python -c "while True: pass"``; the load average before and after each run is
printed too, since other work on the machine adds to the hogs. A table also goes to
``benchmarks/results/nbval_under_load.txt`` (a build product).
"""

from __future__ import annotations

import argparse
import os
import subprocess
import sys
import tempfile
import time
import xml.etree.ElementTree as ET
from collections import defaultdict
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
HOG = "while True: pass"


def start_hogs(count: int) -> list[subprocess.Popen]:
    return [subprocess.Popen([sys.executable, "-c", HOG]) for _ in range(count)]


def stop_hogs(hogs: list[subprocess.Popen]) -> None:
    for hog in hogs:
        hog.kill()
    for hog in hogs:
        hog.wait()


def run_nbval(notebooks: list[Path]) -> tuple[dict[str, list[str]], dict[str, int], float]:
    """One pytest run over ``notebooks`` with the project's nbval options (pyproject's
    addopts): ``(failing cells per notebook, cells per notebook, seconds)``."""
    with tempfile.TemporaryDirectory() as tmp:
        report = Path(tmp) / "report.xml"
        start = time.monotonic()
        subprocess.run([sys.executable, "-m", "pytest", "-q", "-p", "no:randomly",
                        f"--junitxml={report}", *map(str, notebooks)],
                       cwd=ROOT, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        seconds = time.monotonic() - start
        failed: dict[str, list[str]] = defaultdict(list)
        cells: dict[str, int] = defaultdict(int)
        if not report.exists():
            return {"(pytest did not run)": ["no report"]}, {}, seconds
        for case in ET.parse(report).getroot().iter("testcase"):
            name = Path(case.get("file") or case.get("classname", "?").replace(".", "/")).name
            notebook = next((nb.name for nb in notebooks if nb.stem in (case.get("classname") or "")
                             or nb.name == name), name)
            cells[notebook] += 1
            if case.find("failure") is not None or case.find("error") is not None:
                failed[notebook].append(case.get("name", "?"))
    return dict(failed), dict(cells), seconds


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("notebooks", nargs="*", type=Path,
                        help="notebooks to run (default: every notebooks/NN-*.ipynb)")
    parser.add_argument("--hogs", type=int, default=2, help="busy-loop processes (default 2)")
    parser.add_argument("--runs", type=int, default=3, help="runs (default 3)")
    args = parser.parse_args(argv)
    notebooks = [p.resolve() for p in args.notebooks] or sorted(
        (ROOT / "notebooks").glob("[0-9][0-9]-*.ipynb"))
    lines = [f"nbval under load: {len(notebooks)} notebooks, {args.hogs} busy-loop processes, "
             f"{os.cpu_count()} cores, {args.runs} runs"]
    print(lines[0], flush=True)
    totals = []
    for run in range(1, args.runs + 1):
        before = os.getloadavg()[0]
        hogs = start_hogs(args.hogs)
        try:
            failed, cells, seconds = run_nbval(notebooks)
        finally:
            stop_hogs(hogs)
        after = os.getloadavg()[0]
        count = sum(len(v) for v in failed.values())
        totals.append(count)
        head = (f"run {run}: {count} failing cells of {sum(cells.values())} in {seconds:.0f} s "
                f"(load average {before:.1f} before, {after:.1f} at the end)")
        lines.append(head)
        print(head, flush=True)
        for nb in notebooks:
            bad = failed.get(nb.name, [])
            line = f"  {nb.name:45} {cells.get(nb.name, 0):3} cells  " + (
                f"FAILED {len(bad)}: {', '.join(bad)}" if bad else "ok")
            lines.append(line)
            print(line, flush=True)
        for other in set(failed) - {nb.name for nb in notebooks}:
            lines.append(f"  {other}: {failed[other]}")
            print(lines[-1], flush=True)
    lines.append(f"failing cells per run: {totals}")
    print(lines[-1])
    out = ROOT / "benchmarks" / "results"
    out.mkdir(parents=True, exist_ok=True)
    (out / "nbval_under_load.txt").write_text("\n".join(lines) + "\n", encoding="utf-8")
    return 1 if any(totals) else 0


if __name__ == "__main__":
    sys.exit(main())
