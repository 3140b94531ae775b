"""Every tutorial notebook, opened in JupyterLab in a real browser and run top to bottom.

For each ``notebooks/NN-*.ipynb`` (whatever exists when the tests run): open it in
JupyterLab, clear the stored outputs, run all cells, wait until every code cell has an
execution count and the kernel is idle, then check that

- no cell shows an error, except cells tagged ``raises-exception``; each such cell whose
  stored output is an error shows one (so the counts match);
- the cells were run top to bottom (execution counts increase);
- every cell whose stored output has a PNG (the timelines) shows a freshly drawn PNG that
  the browser decoded (natural width > 0);
- in a notebook that calls ``poolscope.explore()`` (the playground), the widgets render
  and clicking **Run** draws a new timeline.

A full-page screenshot of each notebook goes to ``artifacts/browser/NN-*.png``, whatever
the outcome. Standard error (warnings) is allowed and only reported.
"""

from __future__ import annotations

import json
import re
import time
from pathlib import Path

import pytest

PROJECT_ROOT = Path(__file__).resolve().parents[2]
NOTEBOOK_DIR = PROJECT_ROOT / "notebooks"
NOTEBOOKS = sorted(NOTEBOOK_DIR.glob("[0-9][0-9]-*.ipynb"))

OPEN_TIMEOUT = 60  # s: JupyterLab loads the notebook and starts its kernel
RUN_TIMEOUT = 90  # s: the whole notebook runs (each is meant to take under 15 s)
IMAGE_TIMEOUT = 15  # s: the browser decodes the PNG outputs
WIDGET_TIMEOUT = 60  # s: the playground's Run button draws a new timeline
MAX_SCREENSHOT_HEIGHT = 16000  # px

ERROR_MIME = "application/vnd.jupyter.error"
PNG_IMG = "img[src^='data:image/png']"

# --- reading the .ipynb ----------------------------------------------------------------


def _source(cell: dict) -> str:
    src = cell.get("source", "")
    return "".join(src) if isinstance(src, list) else src


def _expectations(path: Path) -> dict:
    """What the stored notebook says should happen, by cell index (all cells counted)."""
    nb = json.loads(path.read_text(encoding="utf-8"))
    cells = nb["cells"]
    code = [i for i, c in enumerate(cells) if c["cell_type"] == "code"]
    has_outputs = any(cells[i].get("outputs") for i in code)

    def tags(i):
        return cells[i].get("metadata", {}).get("tags", [])

    def stored(i, kind):
        return any(kind(o) for o in cells[i].get("outputs", []))

    raises = [i for i in code if "raises-exception" in tags(i)]
    if has_outputs:
        # Cells tagged raises-exception that did raise when the notebook was executed.
        must_error = [i for i in raises if stored(i, lambda o: o["output_type"] == "error")]
        png = [i for i in code if stored(i, lambda o: "image/png" in o.get("data", {}))]
    else:
        # Outputs were cleared: go by the source instead.
        must_error = raises
        png = [i for i in code
               if re.match(r"\s*%%timeline\b(?!.*--no-plot)", _source(cells[i]))]
    return {
        "n_cells": len(cells),
        "code": code,
        "raises": raises,
        "must_error": must_error,
        "png": png,
        "playground": any("explore(" in _source(cells[i]) for i in code),
    }


# --- JavaScript run in the page ----------------------------------------------------------

# The current notebook's state from JupyterLab's own models (null until it is open).
STATE_JS = """
(path) => {
  const app = window.jupyterapp;
  const panel = app && app.shell.currentWidget;
  if (!panel || !panel.context || panel.context.path !== path || !panel.content) return null;
  if (!panel.context.isReady) return null;  // until then the model is an empty notebook
  const cells = panel.content.widgets.map((cell) => {
    const m = cell.model;
    if (m.type !== 'code') return {type: m.type};
    const outputs = [];
    for (let k = 0; k < m.outputs.length; k++) {
      const o = m.outputs.get(k).toJSON();
      const text = o.text !== undefined ? [].concat(o.text).join('')
                 : (o.output_type === 'error' ? `${o.ename}: ${o.evalue}` : '');
      outputs.push({type: o.output_type, name: o.name || null,
                    mimes: o.data ? Object.keys(o.data) : [], text: text.slice(0, 2000)});
    }
    const node = cell.node;
    const imgs = Array.from(node.querySelectorAll(
        ".jp-OutputArea-output img[src^='data:image/png']"));
    return {
      type: 'code',
      count: m.executionCount,
      running: m.executionState === 'running',
      outputs,
      domErrors: node.querySelectorAll(
          '.jp-OutputArea-output[data-mime-type="application/vnd.jupyter.error"]').length,
      domStderr: node.querySelectorAll(
          '.jp-OutputArea-output[data-mime-type="application/vnd.jupyter.stderr"]').length,
      pngs: imgs.length,
      pngsDecoded: imgs.filter((i) => i.complete && i.naturalWidth > 0).length,
    };
  });
  const kernel = panel.sessionContext.session && panel.sessionContext.session.kernel;
  return {cells, kernel: kernel ? kernel.status : null,
          kernelName: kernel ? kernel.name : null};
}
"""

# Wait until the document and its kernel are ready; clear outputs; start "run all".
START_JS = """
async ([path, timeoutMs]) => {
  const app = window.jupyterapp;
  const panel = app.shell.currentWidget;
  let timer;
  const late = new Promise((resolve) => { timer = setTimeout(() => resolve('late'), timeoutMs); });
  const ready = Promise.all([panel.context.ready, panel.sessionContext.ready]);
  if (await Promise.race([ready, late]) === 'late')
    return `the kernel for ${path} was not ready within ${timeoutMs / 1000} s`;
  clearTimeout(timer);
  const kernel = panel.sessionContext.session && panel.sessionContext.session.kernel;
  if (!kernel) return 'no kernel was started for ' + path;
  if (!app.shell.leftCollapsed) app.shell.collapseLeft();  // a wider notebook to look at
  await app.commands.execute('notebook:clear-all-cell-outputs');
  const left = panel.content.widgets.filter(
      (c) => c.model.type === 'code' && (c.model.outputs.length || c.model.executionCount));
  if (left.length) return 'clearing the stored outputs failed';
  app.commands.execute('notebook:run-all-cells');  // not awaited: polled from Python
  return null;
}
"""

# Make the page tall enough to show the whole notebook; returns the scroll overflow.
OVERFLOW_JS = """
() => {
  const panel = window.jupyterapp.shell.currentWidget;
  const scroller = panel.node.querySelector('.jp-WindowedPanel-outer') || panel.content.node;
  return scroller.scrollHeight - scroller.clientHeight;
}
"""


def _poll(fn, timeout: float, interval: float = 0.25):
    """Call ``fn`` until it returns something truthy or ``timeout`` s pass; return the last."""
    deadline = time.monotonic() + timeout
    while True:
        result = fn()
        if result or time.monotonic() >= deadline:
            return result
        time.sleep(interval)


def _evaluate_or_none(page, js: str, arg):
    """``page.evaluate``, or None while the page is still loading (or navigating)."""
    from playwright.sync_api import Error

    try:
        return page.evaluate(js, arg)
    except Error:
        return None


def _describe(state: dict, indices) -> str:
    lines = []
    for i in indices:
        cell = state["cells"][i]
        outs = "; ".join(f"{o['type']}{'/' + o['name'] if o['name'] else ''}: "
                         f"{o['text'][:300]!r}" for o in cell["outputs"]
                         if o["type"] in ("error", "stream"))
        lines.append(f"  cell {i} [{cell['count']}]: {outs or '(no error output)'}")
    return "\n".join(lines)


def _run_notebook(page, lab, nb_path: Path, expect: dict) -> dict:
    """Open, clear and run the notebook; return the final state (asserting it finished)."""
    rel = nb_path.relative_to(PROJECT_ROOT).as_posix()
    # ?reset: start from an empty workspace (the server remembers the last page's tabs).
    page.goto(lab.url(f"/lab/tree/{rel}?reset"), wait_until="domcontentloaded")
    state = _poll(lambda: _evaluate_or_none(page, STATE_JS, rel), OPEN_TIMEOUT, 0.5)
    assert state is not None, f"JupyterLab did not open {rel} within {OPEN_TIMEOUT} s"
    assert len(state["cells"]) == expect["n_cells"], "JupyterLab shows a different notebook"

    problem = page.evaluate(START_JS, [rel, OPEN_TIMEOUT * 1000])
    assert problem is None, problem

    code = expect["code"]
    allowed = set(expect["raises"])
    deadline = time.monotonic() + RUN_TIMEOUT
    idle_since = None
    while True:
        state = page.evaluate(STATE_JS, rel)
        cells = state["cells"]
        unexpected = [i for i in code
                      if any(o["type"] == "error" for o in cells[i]["outputs"])
                      and i not in allowed]
        assert not unexpected, (
            f"{rel}: error output in a cell not tagged raises-exception:\n"
            + _describe(state, unexpected))
        running = any(cells[i]["running"] for i in code)
        missing = [i for i in code if cells[i]["count"] is None]
        if state["kernel"] == "idle" and not running:
            if not missing:
                return state
            # Idle, nothing queued, cells left without a count: the run stopped.
            idle_since = idle_since or time.monotonic()
            if time.monotonic() - idle_since > 3:
                pytest.fail(f"{rel}: the run stopped; cells never ran: {missing}\n"
                            + _describe(state, [i for i in code if cells[i]["outputs"]]),
                            pytrace=False)
        else:
            idle_since = None
        if time.monotonic() > deadline:
            pytest.fail(f"{rel}: not finished after {RUN_TIMEOUT} s (kernel "
                        f"{state['kernel']}); cells without a count: {missing}",
                        pytrace=False)
        time.sleep(0.25)


def _screenshot(page, path: Path) -> None:
    """A screenshot of the whole notebook: grow the viewport until nothing scrolls."""
    width = page.viewport_size["width"]
    height = page.viewport_size["height"]
    for _ in range(6):  # cells render (and change height) as they come into view
        try:
            overflow = page.evaluate(OVERFLOW_JS)
        except Exception:  # noqa: BLE001 - no notebook open: take the page as it is
            break
        if overflow <= 2 or height >= MAX_SCREENSHOT_HEIGHT:
            break
        height = min(MAX_SCREENSHOT_HEIGHT, height + overflow + 50)
        page.set_viewport_size({"width": width, "height": height})
        page.wait_for_timeout(300)  # let the layout settle before measuring again
    page.screenshot(path=str(path), full_page=True)


# The output area that holds the first widget with a "Run" button, and its images' srcs
# (ipywidgets' Image shows a blob: URL, an Output widget a data: URL: any <img> counts).
RUN_AREA_JS = """
() => {
  const isRun = (b) => b.textContent.trim() === 'Run';
  const area = [...document.querySelectorAll('.jp-OutputArea-output')].find(
      (a) => [...a.querySelectorAll('.jupyter-widgets .widget-button')].some(isRun));
  if (!area) return null;
  return [...area.querySelectorAll('img')].map(
      (i) => ({src: i.src, ok: i.complete && i.naturalWidth > 0}));
}
"""


def _check_playground(page, rel: str) -> None:
    """The playground's widgets render, and Run draws a new timeline image."""
    outputs = page.locator(".jp-OutputArea-output")
    outputs.locator(".jupyter-widgets").first.wait_for(state="visible",
                                                       timeout=WIDGET_TIMEOUT * 1000)
    run = outputs.locator(".jupyter-widgets .widget-button",
                          has_text=re.compile(r"^\s*Run\s*$")).first
    run.wait_for(state="visible", timeout=WIDGET_TIMEOUT * 1000)
    before = [img["src"] for img in page.evaluate(RUN_AREA_JS) or []]
    run.click(timeout=WIDGET_TIMEOUT * 1000)  # waits until Run is enabled
    try:
        page.wait_for_function(
            f"(before) => ({RUN_AREA_JS})().some((i) => i.ok && !before.includes(i.src))",
            arg=before, timeout=WIDGET_TIMEOUT * 1000)
    except Exception:  # noqa: BLE001 - a clearer message than Playwright's timeout
        pytest.fail(f"{rel}: clicking Run drew no new timeline image within "
                    f"{WIDGET_TIMEOUT} s (images now: {page.evaluate(RUN_AREA_JS)})",
                    pytrace=False)
    # The run ends (Run is enabled again) before the kernel is shut down.
    page.wait_for_function(
        """() => [...document.querySelectorAll('.jupyter-widgets .widget-button')]
                   .some((b) => b.textContent.trim() === 'Run' && !b.disabled)""",
        timeout=WIDGET_TIMEOUT * 1000)
    print(f"{rel}: the widgets rendered; Run drew a new timeline image")


@pytest.mark.parametrize(
    "nb_path",
    NOTEBOOKS or [pytest.param(None, marks=pytest.mark.skip(reason="no notebooks/NN-*.ipynb"))],
    ids=[p.stem for p in NOTEBOOKS] or ["none"],
)
def test_notebook_runs_in_jupyterlab(nb_path, page, jupyterlab, artifacts_dir):
    expect = _expectations(nb_path)
    rel = nb_path.relative_to(PROJECT_ROOT).as_posix()
    shot = artifacts_dir / f"{nb_path.stem}.png"
    started = time.monotonic()
    try:
        state = _run_notebook(page, jupyterlab, nb_path, expect)
        ran_in = time.monotonic() - started
        cells = state["cells"]
        code = expect["code"]

        counts = [cells[i]["count"] for i in code]
        assert counts == sorted(counts) and len(set(counts)) == len(counts), (
            f"{rel}: cells did not run top to bottom: execution counts {counts}")

        # Errors: only where expected, and everywhere expected (model and rendered page).
        errors = {i: sum(o["type"] == "error" for o in cells[i]["outputs"]) for i in code}
        erroring = sorted(i for i, n in errors.items() if n)
        assert erroring == expect["must_error"], (
            f"{rel}: cells with an error {erroring}, expected (tagged raises-exception) "
            f"{expect['must_error']}:\n" + _describe(state, erroring))
        # JupyterLab 4.6 renders a traceback with the stderr MIME type (older versions
        # with application/vnd.jupyter.error): the model tells a traceback from stderr,
        # the page shows that each was rendered.
        for i in code:
            outs = cells[i]["outputs"]
            want = sum(o["type"] == "error" or o["name"] == "stderr" for o in outs)
            shown = cells[i]["domErrors"] + cells[i]["domStderr"]
            assert shown == want, (f"{rel}: cell {i} has {want} error/stderr outputs but "
                                   f"{shown} are rendered")

        # Timelines: every cell that stored a PNG shows one the browser decoded.
        if expect["png"]:
            def decoded():
                s = page.evaluate(STATE_JS, rel)
                return None if any(s["cells"][i]["pngsDecoded"] == 0 for i in expect["png"]) \
                    else s
            final = _poll(decoded, IMAGE_TIMEOUT)
            if final is None:
                s = page.evaluate(STATE_JS, rel)
                bad = [i for i in expect["png"] if s["cells"][i]["pngsDecoded"] == 0]
                pytest.fail(f"{rel}: no rendered timeline PNG in cells {bad} (their stored "
                            f"outputs have one)", pytrace=False)
            n_png = sum(final["cells"][i]["pngsDecoded"] for i in code)
            assert page.locator(f".jp-RenderedImage {PNG_IMG}").count() >= len(expect["png"])
        else:
            n_png = 0

        stderr = [(i, o["text"]) for i in code for o in cells[i]["outputs"]
                  if o["type"] == "stream" and o["name"] == "stderr"]
        for i, text in stderr:  # allowed (warnings), but shown with -v -s / on failure
            print(f"{rel}: stderr in cell {i}: {text[:500]!r}")

        if expect["playground"]:
            _check_playground(page, rel)

        print(f"{rel}: {len(code)} code cells ran in {ran_in:.1f} s, {n_png} timeline "
              f"PNGs, {len(erroring)} expected errors; screenshot {shot}")
    finally:
        try:
            _screenshot(page, shot)
        except Exception as e:  # noqa: BLE001 - never hide the real failure
            print(f"screenshot of {rel} failed: {e}")
        if getattr(page, "console_messages", None):
            (artifacts_dir / f"{nb_path.stem}.console.txt").write_text(
                "\n".join(page.console_messages) + "\n")
