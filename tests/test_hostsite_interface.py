"""What the host site (tests/hostsite/) takes from Rooms still exists.

The host site runs only through `make test-hostsite`, against the installed wheel; this suite
does not collect it. So that a rename in Rooms shows here as well, these tests read the host
site's sources and check every `rooms` name they import and every `rooms:` URL name they
reverse.
"""

from __future__ import annotations

import ast
import importlib
import re
from collections.abc import Iterator
from pathlib import Path

import pytest
from django.urls import NoReverseMatch, reverse

HOSTSITE = Path(__file__).resolve().parent / "hostsite"


def sources() -> list[Path]:
    return sorted(HOSTSITE.rglob("*.py"))


def rooms_imports() -> Iterator[tuple[str, str, str | None]]:
    """(file, module, name) for each import of rooms; name None for `import rooms...`."""
    for path in sources():
        where = str(path.relative_to(HOSTSITE))
        for node in ast.walk(ast.parse(path.read_text(), str(path))):
            if isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
                if node.module == "rooms" or node.module.startswith("rooms."):
                    for alias in node.names:
                        yield where, node.module, alias.name
            elif isinstance(node, ast.Import):
                for alias in node.names:
                    if alias.name == "rooms" or alias.name.startswith("rooms."):
                        yield where, alias.name, None


def test_the_host_site_imports_rooms_names_that_exist() -> None:
    found = list(rooms_imports())
    assert len(found) > 5, found  # the scan sees the host site's imports
    missing = []
    for where, module, name in found:
        try:
            imported = importlib.import_module(module)
        except ImportError:
            missing.append(f"{where}: {module}")
            continue
        if name is not None and not hasattr(imported, name):
            try:
                importlib.import_module(f"{module}.{name}")
            except ImportError:
                missing.append(f"{where}: {module}.{name}")
    assert not missing, missing


@pytest.mark.parametrize(
    "name",
    sorted(
        {
            match
            for path in sources()
            for match in re.findall(r'(?:"rooms:|\bapi\(")([\w-]+)"', path.read_text())
        }
    ),
)
def test_the_url_names_the_host_site_reverses_exist(name: str) -> None:
    for kwargs in ({}, {"token": "t"}):
        try:
            reverse(f"rooms:{name}", kwargs=kwargs)
            return
        except NoReverseMatch:
            continue
    pytest.fail(f"rooms:{name} names no URL")
