"""Imports go one way: the apps use cashman_site's plumbing, and the plumbing never imports an
app. Only the modules that wire the project together (the URL configuration, the router and the
settings) name the apps."""

import ast
from pathlib import Path

import pytest

PLUMBING = Path(__file__).resolve().parents[1]
APPS = {"accounts", "ledger"}
WIRING = {"urls.py", "api_router.py"}


def imported_top_levels(path: Path) -> set[str]:
    names: set[str] = set()
    for node in ast.walk(ast.parse(path.read_text(), filename=str(path))):
        if isinstance(node, ast.Import):
            names.update(alias.name.split(".")[0] for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            names.add(node.module.split(".")[0])
    return names


@pytest.mark.parametrize(
    "module",
    sorted(
        p.relative_to(PLUMBING).as_posix()
        for p in PLUMBING.rglob("*.py")
        if p.name not in WIRING and "tests" not in p.parts and "settings" not in p.parts
    ),
)
def test_the_plumbing_imports_no_app(module):
    assert not imported_top_levels(PLUMBING / module) & APPS


def test_the_wiring_is_where_the_apps_are_named():
    assert all(imported_top_levels(PLUMBING / name) & APPS for name in WIRING)
