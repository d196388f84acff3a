"""Who may see what is decided in ledger/scope.py alone: no other module of the ledger filters
rows by their owner itself, so that shared ledgers change one place."""

import ast
from pathlib import Path

import pytest

LEDGER = Path(__file__).resolve().parents[1]
LOOKUPS = {"filter", "exclude", "get", "get_or_create", "update_or_create"}


def owner_lookups(path: Path) -> list[int]:
    """Lines where a query is narrowed by `owner=`, `owner_id=` or `owner__...=` directly."""
    lines = []
    for node in ast.walk(ast.parse(path.read_text(), filename=str(path))):
        if (
            isinstance(node, ast.Call)
            and isinstance(node.func, ast.Attribute)
            and node.func.attr in LOOKUPS
            and any(
                keyword.arg
                and (keyword.arg in ("owner", "owner_id") or keyword.arg.startswith("owner__"))
                for keyword in node.keywords
            )
        ):
            lines.append(node.lineno)
    return lines


MODULES = sorted(
    path.relative_to(LEDGER).as_posix()
    for path in LEDGER.rglob("*.py")
    if "tests" not in path.parts and "migrations" not in path.parts and path.name != "scope.py"
)


@pytest.mark.parametrize("module", MODULES)
def test_no_module_but_scope_filters_by_owner(module):
    assert owner_lookups(LEDGER / module) == []


def test_the_check_finds_an_owner_filter(tmp_path):
    sample = tmp_path / "sample.py"
    sample.write_text(
        "Transaction.objects.filter(owner=user, id=1)\nrows.exclude(owner__email='x')\n"
    )
    assert owner_lookups(sample) == [1, 2]
