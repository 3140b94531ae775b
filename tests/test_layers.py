"""The import graph of ``src/poolscope``: no cycle, and every import points down the layers.

The graph is read from the source (``ast``), not from ``sys.modules``, so an import
inside a function counts as much as one at the top: it runs whenever that function
does. Imports under ``if TYPE_CHECKING:`` do not count (they never run). Importing
``render.mpl`` from outside ``render/`` also depends on ``render/__init__.py`` (Python runs
it first). The root ``poolscope/__init__.py`` has always run by then: it is the package's
public door, at the top, and it imports the rest, not the reverse; an import of a name
from it (``from .. import __version__``) does count.

Module names are relative to ``poolscope``: ``trace``, ``render`` (``render/__init__.py``),
``render.mpl``, ``tutorial.checks.nb09``; the root ``__init__.py`` is ``__init__``.
``pytest -s tests/test_layers.py`` prints the layers.
"""

from __future__ import annotations

import ast
import fnmatch
from collections.abc import Iterable, Mapping
from pathlib import Path

import pytest

SRC = Path(__file__).resolve().parents[1] / "src" / "poolscope"
ROOT = "__init__"  # the name given here to poolscope/__init__.py

# The layers, lowest first. A module may import modules of its own layer or of a layer
# below, never above; every module of src/poolscope matches exactly one layer (names or
# fnmatch patterns). A new module must be placed here: the test says which is missing.
LAYERS: list[tuple[str, list[str]]] = [
    ("foundations: the trace's data, option checks",
     ["_columns", "_model", "_options", "_version"]),
    ("readers of the data: summary, formats, renderers, the worker log and its parsers",
     ["summary", "_json", "render", "render.*", "_build", "_streams", "_log", "_kinds"]),
    ("the public Trace (data methods and thin calls to the renderers)",
     ["trace"]),
    ("recording: the recorder and the hooks of each pool kind",
     ["recording", "_pool", "_executor", "_procpool", "_procexecutor", "_worker", "_results",
      "_subclass"]),
    ("front ends: the cell magic; notebook tooling",
     ["magic", "authoring", "authoring.*"]),
    ("the tutorial: what the notebooks teach with",
     ["tutorial", "tutorial.*"]),
    ("doors: the package's public names (explore() opens the playground) and the "
     "command line (its demo runs a tutorial workload); both import lazily",
     [ROOT, "__main__"]),
]


# -- the graph ------------------------------------------------------------------------------

def module_names(src: Path = SRC) -> dict[str, Path]:
    """Every module under ``src``: relative dotted name -> file."""
    out = {}
    for path in sorted(src.rglob("*.py")):
        parts = list(path.relative_to(src).with_suffix("").parts)
        if parts[-1] == "__init__":
            parts.pop()
        out[".".join(parts) or ROOT] = path
    return out


def _package_of(name: str, path: Path) -> list[str]:
    """The package a module's relative imports start from, as parts (root: [])."""
    parts = [] if name == ROOT else name.split(".")
    return parts if path.name == "__init__.py" else parts[:-1]


def _is_type_checking(test: ast.expr) -> bool:
    return (isinstance(test, ast.Name) and test.id == "TYPE_CHECKING") or (
        isinstance(test, ast.Attribute) and test.attr == "TYPE_CHECKING")


def _imports(tree: ast.AST) -> Iterable[ast.Import | ast.ImportFrom]:
    """Every import statement, at any depth, except under ``if TYPE_CHECKING:``."""
    todo = [tree]
    while todo:
        node = todo.pop()
        if isinstance(node, ast.If) and _is_type_checking(node.test):
            todo.extend(node.orelse)  # the else branch does run
            continue
        if isinstance(node, (ast.Import, ast.ImportFrom)):
            yield node
        todo.extend(ast.iter_child_nodes(node))


def _internal(dotted: str, modules: Mapping[str, Path]) -> str | None:
    """``poolscope.render.mpl`` -> ``render.mpl``; None outside the package."""
    if dotted == "poolscope":
        return ROOT
    if dotted.startswith("poolscope."):
        name = dotted[len("poolscope."):]
        return name if name in modules else None
    return None


def import_graph(src: Path = SRC) -> dict[str, dict[str, list[str]]]:
    """``{module: {imported module: ["file.py:line", ...]}}`` for the package at ``src``."""
    modules = module_names(src)
    graph: dict[str, dict[str, list[str]]] = {name: {} for name in modules}
    for name, path in modules.items():
        where = str(path.relative_to(src))

        def edge(target: str | None, line: int) -> None:
            if target is None or target == name:
                return
            # Importing pkg.sub first runs pkg/__init__.py, unless the importer is inside
            # pkg (then pkg has been initialised already). The root always has been.
            parts = target.split(".")
            for k in range(1, len(parts) + 1):
                dotted = ".".join(parts[:k])
                if k < len(parts) and (name == dotted or name.startswith(dotted + ".")):
                    continue
                sites = graph[name].setdefault(dotted, [])
                if dotted != name and f"{where}:{line}" not in sites:
                    sites.append(f"{where}:{line}")
            graph[name].pop(name, None)

        tree = ast.parse(path.read_text(encoding="utf-8"), filename=str(path))
        for node in _imports(tree):
            if isinstance(node, ast.Import):
                for alias in node.names:
                    edge(_internal(alias.name, modules), node.lineno)
                continue
            if node.level:
                base = _package_of(name, path)
                base = base[:len(base) - (node.level - 1)] if node.level > 1 else base
                dotted = ".".join(["poolscope", *base] + ([node.module] if node.module else []))
            else:
                dotted = node.module or ""
            for alias in node.names:
                # `from . import _log` imports a module; `from .trace import Trace` a name.
                target = _internal(f"{dotted}.{alias.name}", modules) or _internal(dotted, modules)
                edge(target, node.lineno)
    return graph


# -- the checks (pure functions of a graph, so that they can be tested on made-up ones) ------

def cycles(graph: Mapping[str, Iterable[str]]) -> list[list[str]]:
    """The strongly connected components of more than one module (Tarjan), each sorted,
    as one cycle through its modules would show: none when the graph is acyclic."""
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    on_stack: set[str] = set()
    found: list[list[str]] = []

    def visit(v: str) -> None:  # recursion depth is at most the number of modules
        index[v] = low[v] = len(index)
        stack.append(v)
        on_stack.add(v)
        for w in graph.get(v, ()):
            if w not in index:
                visit(w)
                low[v] = min(low[v], low[w])
            elif w in on_stack:
                low[v] = min(low[v], index[w])
        if low[v] == index[v]:
            component = []
            while True:
                w = stack.pop()
                on_stack.discard(w)
                component.append(w)
                if w == v:
                    break
            if len(component) > 1:
                found.append(sorted(component))

    for v in sorted(graph):
        if v not in index:
            visit(v)
    return sorted(found)


def one_cycle(graph: Mapping[str, Iterable[str]], component: list[str]) -> list[str]:
    """A shortest closed path through the first module of ``component``: a -> b -> a."""
    start, members = component[0], set(component)
    came_from: dict[str, str] = {}
    frontier = [start]
    while frontier:
        nxt = []
        for v in frontier:
            for w in sorted(graph.get(v, ())):
                if w == start:
                    path = [v]
                    while path[-1] != start:
                        path.append(came_from[path[-1]])
                    return [start, *reversed(path[:-1]), start] if len(path) > 1 else [start, v, start]
                if w in members and w not in came_from:
                    came_from[w] = v
                    nxt.append(w)
        frontier = nxt
    return component  # not reached for a real component


def layer_of(name: str, layers: list[tuple[str, list[str]]] = LAYERS) -> list[int]:
    """The indexes of every layer whose names or patterns match ``name``."""
    return [i for i, (_, patterns) in enumerate(layers)
            if any(fnmatch.fnmatchcase(name, p) for p in patterns)]


def placement_problems(modules: Iterable[str],
                       layers: list[tuple[str, list[str]]] = LAYERS) -> list[str]:
    problems = []
    for name in sorted(modules):
        where = layer_of(name, layers)
        if len(where) != 1:
            problems.append(f"{name} is in {len(where)} layers (must be in exactly one): "
                            f"{[layers[i][0] for i in where]}; place it in LAYERS")
    return problems


def upward_edges(graph: Mapping[str, Mapping[str, list[str]]],
                 layers: list[tuple[str, list[str]]] = LAYERS) -> list[str]:
    """``"a (layer 1) imports b (layer 3) at a.py:12"`` for each import pointing up."""
    out = []
    for a in sorted(graph):
        for b in sorted(graph[a]):
            la, lb = layer_of(a, layers), layer_of(b, layers)
            if len(la) == 1 and len(lb) == 1 and lb[0] > la[0]:
                sites = graph[a][b] if isinstance(graph[a], Mapping) else ["?"]
                out.append(f"{a} (layer {la[0]}) imports {b} (layer {lb[0]}) at "
                           f"{', '.join(sites)}")
    return out


def describe_cycles(graph: Mapping[str, Mapping[str, list[str]]]) -> str:
    lines = []
    for component in cycles(graph):
        path = one_cycle(graph, component)
        lines.append(f"{len(component)} modules: {', '.join(component)}\n"
                     f"    e.g. {' -> '.join(path)}")
    return "\n".join(lines)


# -- the tests ---------------------------------------------------------------------------------

def test_print_layers():
    graph = import_graph()
    print()
    for i, (title, _) in enumerate(LAYERS):
        names = [m for m in sorted(graph) if layer_of(m) == [i]]
        print(f"layer {i}, {title}:\n    {', '.join(names) or '(none yet)'}")
    found = describe_cycles(graph)
    print(f"cycles:\n{found}" if found else "cycles: none")
    assert sum(len(layer_of(m)) == 1 for m in graph) >= 40  # the graph was really read


def test_every_module_is_in_exactly_one_layer():
    problems = placement_problems(module_names())
    assert not problems, "\n".join(problems)


def test_no_import_cycle():
    found = describe_cycles(import_graph())
    assert not found, f"import cycles (imports in functions count):\n{found}"


def test_imports_point_down_the_layers():
    upward = upward_edges(import_graph())
    assert not upward, "imports pointing up the layers:\n" + "\n".join(upward)


def test_nothing_outside_the_tutorial_imports_it_but_the_doors():
    graph = import_graph()
    doors = set(LAYERS[-1][1])
    bad = [f"{a} imports {b} at {', '.join(sites)}" for a, targets in sorted(graph.items())
           for b, sites in sorted(targets.items())
           if (b == "tutorial" or b.startswith("tutorial.")) and not (
               a == "tutorial" or a.startswith("tutorial.") or a in doors)]
    assert not bad, "\n".join(bad)


# -- the checker itself can fail -----------------------------------------------------------------

def test_cycles_finds_a_made_up_cycle():
    graph = {"a": {"b": []}, "b": {"c": []}, "c": {"a": []}, "d": {"a": []}, "e": {}}
    assert cycles(graph) == [["a", "b", "c"]]
    assert one_cycle(graph, ["a", "b", "c"]) == ["a", "b", "c", "a"]
    assert "3 modules: a, b, c" in describe_cycles(graph)
    assert cycles({"a": {"b": []}, "b": {}, "c": {"a": [], "b": []}}) == []


def test_two_modules_importing_each_other_are_a_cycle():
    assert cycles({"x": {"y": []}, "y": {"x": []}}) == [["x", "y"]]


def test_upward_edge_is_reported():
    layers = [("low", ["a", "pkg.*"]), ("high", ["b"])]
    assert upward_edges({"a": {"b": ["a.py:3"]}, "b": {"a": []}}, layers) == [
        "a (layer 0) imports b (layer 1) at a.py:3"]
    assert upward_edges({"pkg.x": {"a": []}, "b": {"pkg.x": []}}, layers) == []
    assert placement_problems(["a", "c"], layers) == [
        "c is in 0 layers (must be in exactly one): []; place it in LAYERS"]


def test_graph_reads_function_imports_and_skips_type_checking(tmp_path):
    pkg = tmp_path / "poolscope"
    (pkg / "sub").mkdir(parents=True)
    (pkg / "__init__.py").write_text("from .low import x\n")
    (pkg / "low.py").write_text("from typing import TYPE_CHECKING\n"
                                "if TYPE_CHECKING:\n    from .high import y\n"
                                "def f():\n    from .sub import deep\n")
    (pkg / "high.py").write_text("import poolscope.low\n")
    (pkg / "sub" / "__init__.py").write_text("")
    (pkg / "sub" / "deep.py").write_text("from .. import high\nfrom ..low import f\n")
    graph = import_graph(pkg)
    assert {a: sorted(b) for a, b in graph.items()} == {
        ROOT: ["low"], "high": ["low"], "low": ["sub", "sub.deep"], "sub": [],
        "sub.deep": ["high", "low"]}
    assert graph["low"]["sub.deep"] == ["low.py:5"]
    assert cycles(graph) == [["high", "low", "sub.deep"]]


if __name__ == "__main__":
    pytest.main([__file__, "-s", "-q"])
