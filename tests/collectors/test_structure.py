"""Collectors never see transport errors: no module in exporter/collectors imports the HTTP
client or its errors. A 404 that means "none" is asked of the reader (`get_or_none`,
`list_all(missing_ok=True)`), so the only way out of a collector is records or an exception
it does not catch."""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

import exporter.collectors

COLLECTORS_DIR = Path(exporter.collectors.__file__).parent
FORBIDDEN = ("exporter.api", "httpx")


def imported_modules(tree: ast.AST) -> list[str]:
    """Every module an import statement names, `from x import y` counting as x and x.y."""
    names: list[str] = []
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            names += [alias.name for alias in node.names]
        elif isinstance(node, ast.ImportFrom) and node.module is not None and node.level == 0:
            names.append(node.module)
            names += [f"{node.module}.{alias.name}" for alias in node.names]
    return names


def forbidden_imports(source: str) -> list[str]:
    return [name for name in imported_modules(ast.parse(source))
            if any(name == f or name.startswith(f + ".") for f in FORBIDDEN)]


@pytest.mark.parametrize("module", sorted(COLLECTORS_DIR.glob("*.py")), ids=lambda p: p.name)
def test_no_collector_module_imports_the_http_client(module: Path) -> None:
    assert forbidden_imports(module.read_text()) == []


def test_the_modules_are_found() -> None:
    assert len(list(COLLECTORS_DIR.glob("*.py"))) > 20


@pytest.mark.parametrize(
    ("source", "found"),
    [
        ("from exporter.api import ApiError", ["exporter.api", "exporter.api.ApiError"]),
        ("import exporter.api", ["exporter.api"]),
        ("import httpx", ["httpx"]),
        ("from exporter import api", ["exporter.api"]),
        ("def f():\n    from httpx import get", ["httpx", "httpx.get"]),
        ("from exporter.apiary import x\nimport httpxyz", []),
        ("from exporter.collectors.base import ResourceReader", []),
    ],
)
def test_the_check_sees_every_spelling(source: str, found: list[str]) -> None:
    assert forbidden_imports(source) == found
