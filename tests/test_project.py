"""The project's own files agree with each other: README, CI, pyproject, environment.yml."""

from __future__ import annotations

import re
import tomllib
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]


def requirement_names(reqs: list[str]) -> dict[str, str]:
    """{"matplotlib": ">=3.7", ...} from PEP 508 strings (extras of our own skipped)."""
    out = {}
    for req in reqs:
        m = re.match(r"^([A-Za-z0-9_.-]+)(\[[^]]*\])?\s*(.*)$", req.strip())
        assert m, req
        if m.group(1).lower() != "poolscope":
            out[m.group(1).lower()] = m.group(3).replace(" ", "")
    return out


def test_environment_yml_matches_pyproject():
    project = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]
    wanted = requirement_names(project["dependencies"])
    for extra in ("notebooks", "test"):
        wanted |= requirement_names(project["optional-dependencies"][extra])
    # nbgrader adds menus to JupyterLab, and playwright only drives the browser tests:
    # both stay out of the learners' (and Binder's) environment.
    wanted.pop("nbgrader")
    wanted.pop("playwright")
    env = (ROOT / "environment.yml").read_text()
    conda = {}
    for line in env.split("dependencies:", 1)[1].splitlines():
        m = re.match(r"^\s+- ([A-Za-z0-9_.-]+)\s*([<>=!~].*)?$", line)
        if m and m.group(1) not in ("pip", "python"):
            conda[m.group(1).lower()] = (m.group(2) or "").replace(" ", "")
    assert conda == wanted
    assert re.search(r"^\s+- python>=3\.11$", env, re.M)
    assert re.search(r"^\s+- -e \.$", env, re.M), "environment.yml must install poolscope itself"
    assert project["requires-python"] == ">=3.11"


def test_readme_starts_with_the_two_commands_and_ci_runs_the_second():
    lines = (ROOT / "README.md").read_text().splitlines()
    block = lines[lines.index("```sh") + 1:lines.index("```", lines.index("```sh"))]
    commands = [line for line in block if not line.startswith("#")]
    assert len(commands) == 2 and lines.index("```sh") <= 2
    assert "jupyter lab" in commands[0] and ".[notebooks]" in commands[0]
    assert "pytest" in commands[1] and ".[test]" in commands[1]
    ci = (ROOT / ".ci" / "run").read_text()
    assert "grep -A1 '^# Run every test' README.md" in ci
    assert block[block.index("# Run every test (unit tests, doctests, and every notebook "
                             "checked by nbval)") + 1] == commands[1]


def test_no_machine_paths_in_committed_text():
    # Built from parts so that this file does not match itself.
    suspicious = re.compile("/" + r"(root|home|Users|work)/[^\s\"'*]+")
    for path in ROOT.rglob("*"):
        if (path.is_file() and ".git" not in path.parts and ".venv" not in path.parts
                and path.suffix in {".py", ".md", ".toml", ".yml", ".cfg", ".ipynb", ""}
                and "__pycache__" not in path.parts):
            text = path.read_text(errors="ignore")
            hit = suspicious.search(text)
            assert not hit, f"{path.relative_to(ROOT)}: {hit.group(0)}"
