"""The simulator's modules import each other in one direction only.

The import graph of `exporter.simulator` is read from the source with `ast`: every import
counts, those under `if TYPE_CHECKING:` and inside functions too, since each is a dependency
a reader has to follow. A cycle fails the test and is printed, module by module.
"""

from __future__ import annotations

import ast
from collections.abc import Mapping
from pathlib import Path

import exporter.simulator

PACKAGE = "exporter.simulator"
ROOT = Path(exporter.simulator.__file__).parent


def module_name(path: Path) -> str:
    parts = path.relative_to(ROOT).with_suffix("").parts
    if parts[-1] == "__init__":
        parts = parts[:-1]
    return ".".join((PACKAGE, *parts))


def modules() -> dict[str, Path]:
    return {module_name(path): path for path in sorted(ROOT.rglob("*.py"))}


def imported(tree: ast.Module, name: str, is_package: bool, known: set[str]) -> set[str]:
    """The package's modules that the module `name` imports."""
    found: set[str] = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            targets = [alias.name for alias in node.names]
        elif isinstance(node, ast.ImportFrom):
            base = node.module or ""
            if node.level:
                anchor = name.split(".") if is_package else name.split(".")[:-1]
                anchor = anchor[: len(anchor) - (node.level - 1)]
                base = ".".join([*anchor, base] if base else anchor)
            targets = [
                f"{base}.{alias.name}" if f"{base}.{alias.name}" in known else base
                for alias in node.names
            ]
        else:
            continue
        for target in targets:
            # `import a.b.c` depends on a.b.c; stop at the longest prefix that is ours.
            ours = target
            while ours and ours not in known:
                ours = ours.rpartition(".")[0]
            if ours and ours != name:
                found.add(ours)
    return found


def import_graph() -> dict[str, set[str]]:
    known = modules()
    names = set(known)
    return {
        name: imported(
            ast.parse(path.read_text(encoding="utf-8")), name, path.name == "__init__.py", names
        )
        for name, path in known.items()
    }


def cycles(graph: Mapping[str, set[str]]) -> list[list[str]]:
    """One cycle per strongly connected component of more than one module (Tarjan)."""
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    on_stack: set[str] = set()
    components: list[set[str]] = []

    def visit(node: str) -> None:
        index[node] = low[node] = len(index)
        stack.append(node)
        on_stack.add(node)
        for target in sorted(graph.get(node, ())):
            if target not in index:
                visit(target)
                low[node] = min(low[node], low[target])
            elif target in on_stack:
                low[node] = min(low[node], index[target])
        if low[node] == index[node]:
            component = set()
            while True:
                member = stack.pop()
                on_stack.discard(member)
                component.add(member)
                if member == node:
                    break
            if len(component) > 1:
                components.append(component)

    for node in sorted(graph):
        if node not in index:
            visit(node)
    return [shortest_cycle(graph, component) for component in components]


def shortest_cycle(graph: Mapping[str, set[str]], component: set[str]) -> list[str]:
    """A shortest cycle through the component's first module (breadth first)."""
    start = min(component)
    paths = {start: [start]}
    frontier = [start]
    while frontier:
        following = []
        for node in frontier:
            for target in sorted(graph[node] & component):
                if target == start:
                    return [*paths[node], start]
                if target not in paths:
                    paths[target] = [*paths[node], target]
                    following.append(target)
        frontier = following
    raise AssertionError(f"no cycle through {start}")  # a component always has one


def test_the_graph_sees_the_package() -> None:
    graph = import_graph()
    assert "exporter.simulator.server" in graph
    assert "exporter.simulator.endpoints" in graph["exporter.simulator.server"]


def test_cycles_are_found_and_shown() -> None:
    graph = {"a": {"b"}, "b": {"c"}, "c": {"a", "d"}, "d": set(), "e": {"e"}}
    assert cycles(graph) == [["a", "b", "c", "a"]]


def test_no_module_imports_a_module_that_imports_it_back() -> None:
    found = cycles(import_graph())
    shown = "\n".join(
        " -> ".join(name.removeprefix(f"{PACKAGE}.") for name in cycle) for cycle in found
    )
    assert not found, f"import cycles in {PACKAGE}:\n{shown}"
