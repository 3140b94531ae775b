"""The %%timeline cell magic, run in a real IPython InteractiveShell."""

from __future__ import annotations

import re

import pytest

pytest.importorskip("IPython")
matplotlib = pytest.importorskip("matplotlib")
matplotlib.use("Agg")

from IPython.core.interactiveshell import InteractiveShell  # noqa: E402

from poolscope.magic import load_ipython_extension  # noqa: E402

CELL = """\
from multiprocessing.pool import ThreadPool
import time
with ThreadPool(2) as pool:
    pool.map(time.sleep, [0.05] * 4)
"""


@pytest.fixture(scope="module")
def shell():
    ip = InteractiveShell.instance()
    load_ipython_extension(ip)
    yield ip
    InteractiveShell.clear_instance()


def test_timeline_magic_prints_text_and_summary(shell, capsys):
    shell.run_cell(f"%%timeline --tick 0.05 --no-plot --out tr\n{CELL}")
    out = capsys.readouterr().out
    assert "worker 0" in out and "worker 1" in out and "caller" in out
    assert "<poolscope.Trace: 4 tasks (4 finished) on 2 workers>" in out
    assert len(shell.user_ns["tr"].tasks) == 4


def test_timeline_magic_displays_the_trace(shell, capsys):
    shell.run_cell(f"%%timeline\n{CELL}")
    out = capsys.readouterr().out
    # A terminal shell shows the text/plain part of the display bundle.
    assert "worker 0" in out and "<poolscope.Trace: 4 tasks (4 finished) on 2 workers>" in out


def test_cell_that_raises_shows_the_timeline_then_fails_with_its_own_error(shell, capsys):
    result = shell.run_cell(f"%%timeline --no-plot\n{CELL}raise KeyError('boom')\n")
    out = capsys.readouterr()
    assert "worker 0" in out.out
    assert isinstance(result.error_in_exec, KeyError)  # the cell fails: Run All stops
    text = re.sub(r"\x1b\[[0-9;]*m", "", out.out + out.err)  # without colours
    assert text.count("KeyError: 'boom'") == 1  # one traceback, not two
    assert "showtraceback" not in vars(shell)  # the shell is left as it was


def test_a_syntax_error_fails_the_cell(shell, capsys):
    result = shell.run_cell("%%timeline --no-plot\nwith ThreadPool(2) as pool\n")
    assert isinstance(result.error_in_exec, SyntaxError)
    assert "no tasks recorded" in capsys.readouterr().out


@pytest.mark.parametrize("tick, message", [
    ("0", "--tick must be a number of seconds from 0.001 to 60 (got 0)"),
    ("1e-9", "--tick must be a number of seconds from 0.001 to 60 (got 1e-09)"),
    ("inf", "--tick must be a number of seconds from 0.001 to 60 (got inf)"),
    ("nan", "--tick must be a number of seconds from 0.001 to 60 (got nan)"),
])
def test_a_bad_tick_fails_before_the_cell_runs(shell, capsys, tick, message):
    shell.user_ns.pop("ran", None)
    result = shell.run_cell(f"%%timeline --tick {tick}\nran = True\n")
    assert isinstance(result.error_in_exec, ValueError)
    assert str(result.error_in_exec) == message
    assert "ran" not in shell.user_ns  # the cell never ran


def test_load_ext_poolscope_registers_the_magic(shell):
    shell.run_line_magic("load_ext", "poolscope")
    assert "timeline" in shell.magics_manager.magics["cell"]


def test_an_awaiting_cell_gets_a_clear_error_before_it_runs(shell, capsys):
    shell.user_ns.pop("ran", None)
    result = shell.run_cell("%%timeline --no-plot\nimport asyncio\nran = True\n"
                            "await asyncio.sleep(0)\n")
    assert isinstance(result.error_in_exec, ValueError)
    assert "cannot run a cell that uses await" in str(result.error_in_exec)
    assert "poolscope.record()" in str(result.error_in_exec)
    assert "ran" not in shell.user_ns  # the cell never ran
