"""JupyterLab in a real browser: a JupyterLab server and a headless Chromium for the tests here.

The server runs on loopback with a random token, the project root as its root folder, a
temporary workspace (no tabs restored) and temporary user settings (no news, no update
check, no autosave, so opening and running a notebook never writes it back to disk).
The browser is Debian's ``chromium`` driven by Python Playwright (Playwright's own
browser download is never used).

Screenshots and the server's log go to ``artifacts/browser/`` under the project root;
the terminal summary names the folder.

Without chromium or playwright the tests are skipped, except under ``CI=true``, where a
missing browser is an error: CI must prove the notebooks work in a browser.
"""

from __future__ import annotations

import json
import os
import secrets
import shutil
import signal
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.request
from dataclasses import dataclass
from pathlib import Path

import pytest

PROJECT_ROOT = Path(__file__).resolve().parents[2]
ARTIFACTS = PROJECT_ROOT / "artifacts" / "browser"

SERVER_START_TIMEOUT = 90  # seconds; JupyterLab takes about 5-10 s on two cores

# Chromium flags for this kind of machine: no sandbox as root, no GPU, and no background
# connections (the closed network refuses them). Playwright adds a fresh temporary
# --user-data-dir itself (and refuses one in `args`).
CHROMIUM_ARGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]

# JupyterLab user settings: <plugin id> -> settings. Written as *.jupyterlab-settings.
LAB_SETTINGS = {
    # Never write the notebooks we run back to disk.
    "@jupyterlab/docmanager-extension:plugin": {"autosave": False},
    # Screenshots end at the last cell (no blank page's height below it).
    "@jupyterlab/notebook-extension:tracker": {"scrollPastEnd": False},
    # No news toast, no update check (no request to the internet).
    "@jupyterlab/apputils-extension:notification": {
        "fetchNews": "false",
        "checkForUpdates": False,
    },
}


def _in_ci() -> bool:
    return os.environ.get("CI", "").lower() == "true"


def _missing_browser_stack() -> str | None:
    """Why the browser tests cannot run here, or None when they can."""
    try:
        import playwright.sync_api  # noqa: F401
    except ImportError:
        return "Python package 'playwright' is not installed (pip install playwright)"
    if shutil.which("chromium") is None:
        return "no 'chromium' on PATH (Debian: apt-get install chromium)"
    return None


@pytest.fixture(scope="session")
def browser_stack() -> str:
    """The chromium executable; skips (or fails under CI=true) when something is missing."""
    reason = _missing_browser_stack()
    if reason is not None:
        if _in_ci():
            pytest.fail(f"CI=true, so the browser tests must run, but: {reason}", pytrace=False)
        pytest.skip(f"browser tests skipped: {reason}")
    return shutil.which("chromium")


def _free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _tail(path: Path, lines: int = 40) -> str:
    try:
        text = path.read_text(errors="replace")
    except OSError as e:
        return f"(cannot read {path}: {e})"
    return "\n".join(text.splitlines()[-lines:])


def _descendants(pid: int) -> list[int]:
    """Process ids below ``pid`` (kernels included); empty when psutil is not available."""
    try:
        import psutil
    except ImportError:
        return []
    try:
        return [p.pid for p in psutil.Process(pid).children(recursive=True)]
    except psutil.Error:
        return []


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    # A zombie child of ours is not alive; reap it if it is ours.
    try:
        done, _ = os.waitpid(pid, os.WNOHANG)
        return done == 0
    except ChildProcessError:
        return True


@dataclass
class JupyterLab:
    """A running JupyterLab server."""

    base_url: str
    token: str
    root: Path
    log: Path
    process: subprocess.Popen

    def url(self, path: str) -> str:
        sep = "&" if "?" in path else "?"
        return f"{self.base_url}{path}{sep}token={self.token}"

    def api(self, method: str, path: str, timeout: float = 10):
        """Call the server's REST API; returns the decoded JSON (or None)."""
        req = urllib.request.Request(self.url(path), method=method)
        with urllib.request.urlopen(req, timeout=timeout) as resp:
            body = resp.read()
        return json.loads(body) if body else None

    def shutdown_kernels(self) -> None:
        """Delete every session and kernel, so the next notebook starts afresh."""
        for session in self.api("GET", "/api/sessions"):
            self.api("DELETE", f"/api/sessions/{session['id']}", timeout=30)
        for kernel in self.api("GET", "/api/kernels"):
            self.api("DELETE", f"/api/kernels/{kernel['id']}", timeout=30)


def _write_settings(settings_dir: Path) -> None:
    for plugin_id, values in LAB_SETTINGS.items():
        package, plugin = plugin_id.split(":")
        path = settings_dir / package / f"{plugin}.jupyterlab-settings"
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(json.dumps(values, indent=2))


_artifacts_used = False


@pytest.fixture(scope="session")
def artifacts_dir() -> Path:
    """``artifacts/browser/``, emptied of the previous run's screenshots and logs."""
    global _artifacts_used
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    for old in ARTIFACTS.iterdir():
        if old.is_file() and old.suffix in (".png", ".txt", ".log"):
            old.unlink()
    _artifacts_used = True
    return ARTIFACTS


@pytest.fixture(scope="session")
def jupyterlab(browser_stack, artifacts_dir, tmp_path_factory):
    """Start JupyterLab on loopback; yield a :class:`JupyterLab`; always shut it down."""
    tmp = tmp_path_factory.mktemp("jupyterlab")
    workspaces, settings, config, runtime, checkpoints = (
        tmp / n for n in ("workspaces", "settings", "config", "runtime", "checkpoints"))
    for d in (workspaces, settings, config, runtime, checkpoints):
        d.mkdir()
    _write_settings(settings)

    port, token = _free_port(), secrets.token_hex(24)
    cmd = [
        sys.executable, "-m", "jupyterlab",
        "--no-browser",
        "--ServerApp.ip=127.0.0.1",
        f"--ServerApp.port={port}",
        "--ServerApp.port_retries=0",
        f"--IdentityProvider.token={token}",
        f"--ServerApp.root_dir={PROJECT_ROOT}",
        "--LabApp.expose_app_in_browser=True",
        f"--LabApp.workspaces_dir={workspaces}",
        f"--LabApp.user_settings_dir={settings}",
        "--LabApp.news_url=None",
        # JupyterLab makes a checkpoint of each notebook it opens: not in the project.
        f"--FileCheckpoints.checkpoint_dir={checkpoints}",
    ]
    if hasattr(os, "geteuid") and os.geteuid() == 0:
        cmd.append("--allow-root")
    env = dict(os.environ)
    env.update(
        # Keep the user's own Jupyter configuration out of the test.
        JUPYTER_CONFIG_DIR=str(config),
        JUPYTER_RUNTIME_DIR=str(runtime),
        # Kernels use this Python (the one with poolscope installed).
        PATH=os.pathsep.join([str(Path(sys.executable).parent), env.get("PATH", "")]),
        PYTHONUNBUFFERED="1",
    )
    env.pop("JUPYTERLAB_WORKSPACES_DIR", None)
    env.pop("JUPYTERLAB_SETTINGS_DIR", None)

    log_path = artifacts_dir / "jupyterlab.log"
    with open(log_path, "wb") as log:
        log.write(("$ " + " ".join(cmd).replace(token, "<token>") + "\n").encode())
        log.flush()
        proc = subprocess.Popen(cmd, cwd=PROJECT_ROOT, env=env, stdin=subprocess.DEVNULL,
                                stdout=log, stderr=subprocess.STDOUT, start_new_session=True)
    lab = JupyterLab(f"http://127.0.0.1:{port}", token, PROJECT_ROOT, log_path, proc)
    try:
        _wait_until_ready(lab)
        _check_settings(lab)
        yield lab
    finally:
        _stop(lab)


def _wait_until_ready(lab: JupyterLab) -> None:
    deadline = time.monotonic() + SERVER_START_TIMEOUT
    last_error: Exception | None = None
    while time.monotonic() < deadline:
        if lab.process.poll() is not None:
            pytest.fail(f"JupyterLab exited with code {lab.process.returncode} before it was "
                        f"ready; last lines of {lab.log}:\n{_tail(lab.log)}", pytrace=False)
        try:
            lab.api("GET", "/api/status", timeout=2)
            return
        except (urllib.error.URLError, OSError, ValueError) as e:
            last_error = e
        time.sleep(0.25)
    pytest.fail(f"JupyterLab did not answer /api/status within {SERVER_START_TIMEOUT} s "
                f"({last_error}); last lines of {lab.log}:\n{_tail(lab.log)}", pytrace=False)


def _check_settings(lab: JupyterLab) -> None:
    """Make sure our settings are in effect (autosave off keeps the notebooks unchanged)."""
    got = lab.api("GET", "/lab/api/settings/@jupyterlab/docmanager-extension:plugin")
    autosave = got.get("settings", {}).get("autosave")
    if autosave is not False:
        pytest.fail(f"JupyterLab ignored the test settings (autosave={autosave!r}); "
                    "running the notebooks could overwrite them", pytrace=False)


def _stop(lab: JupyterLab) -> None:
    """Shut the server down cleanly (kernels too); kill whatever is left."""
    proc = lab.process
    children = _descendants(proc.pid)
    if proc.poll() is None:
        try:
            lab.shutdown_kernels()
        except Exception:  # noqa: BLE001 - the server is going away anyway
            pass
        try:
            lab.api("POST", "/api/shutdown", timeout=10)
        except Exception:  # noqa: BLE001
            proc.send_signal(signal.SIGTERM)
        try:
            proc.wait(timeout=20)
        except subprocess.TimeoutExpired:
            os.killpg(proc.pid, signal.SIGKILL)
            proc.wait(timeout=10)
    # Kernels run in sessions of their own: end any that outlived the server.
    deadline = time.monotonic() + 10
    while (left := [pid for pid in children if _alive(pid)]) and time.monotonic() < deadline:
        time.sleep(0.1)
    for pid in left:
        try:
            os.kill(pid, signal.SIGKILL)
        except ProcessLookupError:
            pass


@pytest.fixture(scope="module")
def browser(browser_stack):
    """A headless Debian chromium driven by Playwright.

    Module scope, not session: while Playwright's sync API is active the main thread
    has a running asyncio loop, so ``asyncio.run()`` in any later test would fail.
    """
    from playwright.sync_api import sync_playwright

    with sync_playwright() as p:
        b = p.chromium.launch(executable_path=browser_stack, args=CHROMIUM_ARGS,
                              headless=True)
        try:
            yield b
        finally:
            b.close()


@pytest.fixture
def page(browser, jupyterlab):
    """A fresh browser context and page; afterwards every kernel is shut down."""
    context = browser.new_context(viewport={"width": 1280, "height": 900})
    pg = context.new_page()
    pg.console_messages = []  # type: ignore[attr-defined]
    pg.on("console", lambda m: pg.console_messages.append(f"[{m.type}] {m.text}"))
    pg.on("pageerror", lambda e: pg.console_messages.append(f"[pageerror] {e}"))
    try:
        yield pg
    finally:
        context.close()  # no beforeunload prompt: the unsaved run is simply dropped
        jupyterlab.shutdown_kernels()


def pytest_terminal_summary(terminalreporter, exitstatus, config):
    if _artifacts_used:
        terminalreporter.write_sep("-", "browser artifacts")
        terminalreporter.write_line(f"screenshots and JupyterLab log: {ARTIFACTS}")
