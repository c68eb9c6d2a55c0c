"""No import cycles in ``source/`` (issue 29, item 5): every module's imports are read with
``ast`` (module level and inside functions, so lazy imports count), resolved to modules of the
package, and the graph is searched for cycles, between modules and between top-level packages
(``source.analysis``, ``source.text``, ...). Importing ``source.a.b`` also runs ``source/a``'s
``__init__``, so an import of a module counts as an import of its packages too.

The cycles that remain are listed below by name, each waiting for the work that removes it; a new
cycle, or a known one that takes in another module, fails the test. When a listed cycle is gone,
``test_known_cycles_still_exist`` asks for its line to be removed.
"""

from __future__ import annotations

import ast
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent

# Module cycles still there, each named in full: none.
KNOWN_MODULE_CYCLES: set[frozenset[str]] = set()
# Package cycles still there: none.
KNOWN_PACKAGE_CYCLES: set[frozenset[str]] = set()

# The layers, lowest first: a module imports only from its own layer or below.
LAYERS = [
    {"source", "source.errors", "source.paths", "source.labels", "source.options", "source.fileio",
     "source.assets", "source.weights", "source.registry", "source.nets", "source.emotion_model"},
    {"source.media", "source.datasets", "source.ray_cluster"},
    {"source.training", "source.tuning"},
    {"source.face", "source.voice", "source.text"},
    {"source.results"},  # the window records and their writers: analyze's and the research predicts'
    {"source.fusion"},
    {"source.analysis"},
    {"source.cli", "source.ui", "source.service", "source.batch"},
]
# Imports that still point up, by module and the package it reaches.
KNOWN_UPWARD: set[tuple[str, str]] = set()


def module_names(package_dir: Path) -> dict[str, Path]:
    """Dotted name -> file, for every module and package under ``package_dir``."""
    root = package_dir.parent
    names = {}
    for path in sorted(package_dir.rglob("*.py")):
        parts = list(path.relative_to(root).with_suffix("").parts)
        if parts[-1] == "__init__":
            parts.pop()
        names[".".join(parts)] = path
    return names


def import_graph(package_dir: Path) -> dict[str, set[str]]:
    """Module -> the package's modules it imports, anywhere in its code."""
    modules = module_names(package_dir)
    top = package_dir.name

    def known(name: str) -> str | None:
        while name and name not in modules:
            name = name.rpartition(".")[0]
        return name or None

    graph: dict[str, set[str]] = {name: set() for name in modules}
    for name, path in modules.items():
        package = name if path.name == "__init__.py" else name.rpartition(".")[0]
        targets = set()
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"), str(path))):
            if isinstance(node, ast.Import):
                targets.update(known(alias.name) for alias in node.names
                               if alias.name.split(".")[0] == top)
            elif isinstance(node, ast.ImportFrom):
                if node.level:
                    base = package.split(".")[: len(package.split(".")) - (node.level - 1)]
                    source = ".".join(base + ([node.module] if node.module else []))
                else:
                    source = node.module or ""
                if source.split(".")[0] != top:
                    continue
                for alias in node.names:  # ``from pkg import module`` imports the module
                    full = f"{source}.{alias.name}"
                    targets.add(full if full in modules else known(source))
        for target in targets - {None, name}:
            graph[name].add(target)
            parts = target.split(".")
            for depth in range(1, len(parts)):  # the target's packages run first
                ancestor = ".".join(parts[:depth])
                if ancestor in modules and not (name + ".").startswith(ancestor + "."):
                    graph[name].add(ancestor)
    return graph


def cycles(graph: dict[str, set[str]]) -> set[frozenset[str]]:
    """The strongly connected components of more than one node (Tarjan, iterative)."""
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    on_stack: set[str] = set()
    found = set()
    for start in graph:
        if start in index:
            continue
        work = [(start, iter(sorted(graph[start])))]
        index[start] = low[start] = len(index)
        stack.append(start)
        on_stack.add(start)
        while work:
            node, children = work[-1]
            child = next(children, None)
            if child is not None:
                if child not in index:
                    index[child] = low[child] = len(index)
                    stack.append(child)
                    on_stack.add(child)
                    work.append((child, iter(sorted(graph.get(child, ())))))
                elif child in on_stack:
                    low[node] = min(low[node], index[child])
                continue
            work.pop()
            if work:
                low[work[-1][0]] = min(low[work[-1][0]], low[node])
            if low[node] == index[node]:
                component = set()
                while True:
                    member = stack.pop()
                    on_stack.discard(member)
                    component.add(member)
                    if member == node:
                        break
                if len(component) > 1:
                    found.add(frozenset(component))
    return found


def package_graph(graph: dict[str, set[str]]) -> dict[str, set[str]]:
    """The module graph folded onto top-level packages (``source.x``)."""
    def package(name: str) -> str:
        return ".".join(name.split(".")[:2])

    folded: dict[str, set[str]] = {}
    for name, targets in graph.items():
        folded.setdefault(package(name), set()).update(
            package(t) for t in targets if package(t) != package(name))
    return folded


def describe(cycle: frozenset[str], graph: dict[str, set[str]]) -> str:
    edges = [f"{a} -> {b}" for a in sorted(cycle) for b in sorted(graph[a] & cycle)]
    return "{" + ", ".join(sorted(cycle)) + "}: " + "; ".join(edges)


def test_the_parser_sees_lazy_and_relative_imports_and_finds_a_cycle(tmp_path):
    package = tmp_path / "pkg"
    (package / "sub").mkdir(parents=True)
    (package / "__init__.py").write_text("")
    (package / "sub" / "__init__.py").write_text("")
    (package / "low.py").write_text("def f():\n    from .sub.high import g\n")  # lazy, relative
    (package / "sub" / "high.py").write_text("from pkg import low\nimport json\n")
    (package / "alone.py").write_text("from .low import f\n")
    graph = import_graph(package)
    assert graph["pkg.low"] == {"pkg.sub.high", "pkg.sub"}
    assert graph["pkg.sub.high"] == {"pkg.low"}
    assert cycles(graph) == {frozenset({"pkg.low", "pkg.sub.high"})}
    (package / "low.py").write_text("import json\n")
    assert cycles(import_graph(package)) == set()


def test_the_graph_covers_function_level_imports_in_source():
    graph = import_graph(ROOT / "source")
    assert "source.fileio" in graph and "source.tuning.objective" in graph
    # ui.common imports the pipeline only inside functions (the app's first page stays light)
    assert "source.analysis.pipeline" in graph["source.ui.common"]


def test_no_new_module_cycle():
    graph = import_graph(ROOT / "source")
    new = cycles(graph) - KNOWN_MODULE_CYCLES
    assert not new, "import cycles:\n" + "\n".join(describe(c, graph) for c in new)


def test_no_new_package_cycle():
    graph = package_graph(import_graph(ROOT / "source"))
    new = cycles(graph) - KNOWN_PACKAGE_CYCLES
    assert not new, "package cycles:\n" + "\n".join(describe(c, graph) for c in new)


def test_known_cycles_still_exist():
    graph = import_graph(ROOT / "source")
    gone = (KNOWN_MODULE_CYCLES - cycles(graph)) | (KNOWN_PACKAGE_CYCLES - cycles(package_graph(graph)))
    assert not gone, f"these cycles are gone: remove them from tests/test_imports.py: {sorted(map(sorted, gone))}"


def test_low_layers_do_not_import_the_file_helpers_from_above():
    """The generic file helpers (atomic writes, sha256) live in source.fileio: the core layer,
    models, training, tuning and text get them there, not from analysis or assets."""
    graph = import_graph(ROOT / "source")
    low = [name for name in graph if name.split(".")[1:2] and name.split(".")[1] in
           {"weights", "emotion_model", "training", "tuning", "text", "voice", "face", "media",
            "datasets", "labels", "options", "paths", "errors", "fileio"}]
    upward = {name: sorted(graph[name] & {"source.results.writers", "source.results", "source.analysis"})
              for name in low}
    assert not {k: v for k, v in upward.items() if v}
    assert "source.assets" not in graph["source.weights"]
    assert "source.assets" not in graph["source.text.emotion"]


def layer_of(name: str) -> int:
    top = ".".join(name.split(".")[:2])
    for rank, layer in enumerate(LAYERS):
        if top in layer:
            return rank
    raise AssertionError(f"{top} is in no layer of tests/test_imports.py: place it in LAYERS")


def test_imports_only_point_down_the_layers():
    graph = import_graph(ROOT / "source")
    upward = {(name, ".".join(target.split(".")[:2])) for name, targets in graph.items()
              for target in targets if layer_of(target) > layer_of(name)}
    assert upward - KNOWN_UPWARD == set(), sorted(upward - KNOWN_UPWARD)
    assert KNOWN_UPWARD - upward == set(), f"no longer upward: remove from KNOWN_UPWARD: {sorted(KNOWN_UPWARD - upward)}"
