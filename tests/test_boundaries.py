"""Rooms is the package a host site installs: it imports nothing of the reference social network
that lives beside it in this repository (DESIGN.md, "Apps and their boundaries")."""

from __future__ import annotations

import ast
from collections.abc import Iterator
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
# Top-level packages of the reference site that `rooms` must never import.
REFERENCE_SITE = ("accounts", "feed", "config")
# Calls that import a module named by a string.
DYNAMIC_IMPORTS = ("import_module", "import_string", "__import__")


def imported_modules(source: str, filename: str = "<source>") -> Iterator[tuple[int, str]]:
    """(line, dotted module name) of every absolute import in `source`, including those under
    `if TYPE_CHECKING:` and those made from a string constant (importlib.import_module,
    django's import_string)."""
    for node in ast.walk(ast.parse(source, filename=filename)):
        if isinstance(node, ast.Import):
            for alias in node.names:
                yield node.lineno, alias.name
        elif isinstance(node, ast.ImportFrom):
            if node.level == 0 and node.module:
                yield node.lineno, node.module
        elif isinstance(node, ast.Call) and node.args:
            func = node.func
            name = func.attr if isinstance(func, ast.Attribute) else getattr(func, "id", "")
            first = node.args[0]
            if (
                name in DYNAMIC_IMPORTS
                and isinstance(first, ast.Constant)
                and isinstance(first.value, str)
            ):
                yield node.lineno, first.value


def _reaches_reference_site(module: str) -> bool:
    return module.split(".")[0] in REFERENCE_SITE


def test_the_scan_sees_every_kind_of_import() -> None:
    source = "\n".join(
        [
            "import accounts",
            "import accounts.models as m",
            "from accounts.selectors import friend_ids",
            "from typing import TYPE_CHECKING",
            "if TYPE_CHECKING:",
            "    from accounts import models",
            "def f():",
            "    from accounts import services",
            "    importlib.import_module('accounts.adapter')",
            "    import_string('accounts.adapter.AccountsAdapter')",
            "from . import accounts",  # a module of the package itself
            "import accountsx",
        ]
    )
    found = [line for line, module in imported_modules(source) if _reaches_reference_site(module)]
    assert found == [1, 2, 3, 6, 8, 9, 10]


def test_rooms_imports_nothing_of_the_reference_site() -> None:
    files = sorted((ROOT / "rooms").rglob("*.py"))
    assert ROOT / "rooms" / "sfu" / "worker.py" in files  # the scan reaches subpackages
    offenders = [
        f"{path.relative_to(ROOT)}:{line}: {module}"
        for path in files
        for line, module in imported_modules(path.read_text(), filename=str(path))
        if _reaches_reference_site(module)
    ]
    assert offenders == []
