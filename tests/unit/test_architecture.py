"""The shape of the domain, kept by a test: service modules import one way (no cycles), never
reach into another module's private names, and payments never depends on booking."""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
SERVICES = ROOT / "app" / "services"


def _module_name(path: Path) -> str:
    parts = path.relative_to(ROOT).with_suffix("").parts
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


def _modules() -> dict[str, Path]:
    return {_module_name(p): p for p in SERVICES.rglob("*.py")}


MODULES = _modules()


def _imports(path: Path) -> list[tuple[str, str, int]]:
    """(imported module, imported name or "", line) for every import, wherever it sits."""
    tree = ast.parse(path.read_text(), filename=str(path))
    found = []
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            found += [(alias.name, "", node.lineno) for alias in node.names]
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            for alias in node.names:
                submodule = f"{node.module}.{alias.name}"
                if submodule in MODULES:
                    found.append((submodule, "", node.lineno))
                else:
                    found.append((node.module, alias.name, node.lineno))
    return found


def _graph() -> dict[str, set[str]]:
    graph: dict[str, set[str]] = {name: set() for name in MODULES}
    for name, path in MODULES.items():
        for module, _, _ in _imports(path):
            if module in MODULES and module != name and not name.startswith(module + "."):
                graph[name].add(module)
    return graph


def _cycles(graph: dict[str, set[str]]) -> list[list[str]]:
    """Each strongly connected group of more than one module (Tarjan)."""
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    on_stack: set[str] = set()
    groups: list[list[str]] = []

    def visit(node: str) -> None:
        index[node] = low[node] = len(index)
        stack.append(node)
        on_stack.add(node)
        for nxt in sorted(graph[node]):
            if nxt not in index:
                visit(nxt)
                low[node] = min(low[node], low[nxt])
            elif nxt in on_stack:
                low[node] = min(low[node], index[nxt])
        if low[node] == index[node]:
            group = []
            while True:
                member = stack.pop()
                on_stack.discard(member)
                group.append(member)
                if member == node:
                    break
            if len(group) > 1:
                groups.append(sorted(group))

    for node in sorted(graph):
        if node not in index:
            visit(node)
    return groups


def test_the_walk_sees_the_services():
    assert "app.services.scheduling.booking" in MODULES
    assert "app.services.payments.cards" in MODULES
    assert _graph()["app.services.scheduling.booking"]  # booking does import things


def test_service_modules_import_one_way():
    assert _cycles(_graph()) == []


def test_a_cycle_would_be_found():
    graph = {"a": {"b"}, "b": {"c"}, "c": {"a"}, "d": {"a"}}
    assert _cycles(graph) == [["a", "b", "c"]]


def test_no_module_imports_another_modules_private_names():
    leaks = [
        f"{name}:{line} imports {module}.{imported}"
        for name, path in MODULES.items()
        for module, imported, line in _imports(path)
        if imported.startswith("_") and module.startswith("app.") and module != name
    ]
    assert leaks == []


@pytest.mark.parametrize(
    ("lower", "upper"),
    [
        ("app.services.payments", "app.services.scheduling.booking"),
        ("app.services.payments", "app.services.scheduling.availability"),
        ("app.services.scheduling.policy", "app.services.payments"),
        ("app.services.errors", "app.services"),
    ],
)
def test_lower_layers_do_not_import_upper_ones(lower, upper):
    graph = _graph()
    wrong = [
        f"{name} imports {dep}"
        for name, deps in graph.items()
        if name == lower or name.startswith(lower + ".")
        for dep in deps
        if (dep == upper or dep.startswith(upper + ".")) and dep != name
    ]
    assert wrong == []
