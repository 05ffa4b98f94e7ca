"""The wheel: the `rooms` package only, with its templates, static files, migrations and the
SFU's C loop built against the stable ABI (issue 13).

The package's sources are copied to a temporary directory first, so the build leaves nothing
behind in the checkout (pip builds in the source tree) and a stray compiled module there
cannot slip into the wheel.
"""

from __future__ import annotations

import shutil
import subprocess
import sys
import zipfile
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
BUILD_TIMEOUT = 240  # seconds; about 15 on the 2-core CI machine
SOURCES = ("rooms", "setup.py", "pyproject.toml", "MANIFEST.in", "README.md")


@pytest.fixture(scope="module")
def wheel(tmp_path_factory: pytest.TempPathFactory) -> Path:
    tmp = tmp_path_factory.mktemp("wheel")
    source, out = tmp / "src", tmp / "out"
    for name in SOURCES:
        path = ROOT / name
        if path.is_dir():
            ignore = shutil.ignore_patterns("__pycache__", "*.so", "*.o", "*.pyc")
            shutil.copytree(path, source / name, ignore=ignore)
        else:
            (source / name).parent.mkdir(parents=True, exist_ok=True)
            shutil.copy2(path, source / name)
    result = subprocess.run(  # noqa: S603 (a fixed command line)
        [sys.executable, "-m", "pip", "wheel", "--no-deps", "--quiet", "-w", str(out), str(source)],
        capture_output=True,
        text=True,
        timeout=BUILD_TIMEOUT,
        check=False,
    )
    assert result.returncode == 0, result.stderr[-4000:]
    (built,) = out.glob("*.whl")
    return built


def test_the_wheel_is_tagged_abi3(wheel: Path) -> None:
    # rooms-0.1.0-cp311-abi3-linux_x86_64.whl: one build for CPython 3.11 and later.
    assert wheel.name.split("-")[2:4] == ["cp311", "abi3"]
    with zipfile.ZipFile(wheel) as archive:
        names = archive.namelist()
        dist_info = next(n.split("/")[0] for n in names if n.endswith(".dist-info/WHEEL"))
        tags = archive.read(f"{dist_info}/WHEEL").decode()
        metadata = archive.read(f"{dist_info}/METADATA").decode()
    assert "Tag: cp311-abi3-" in tags
    assert any(n.startswith("rooms/sfu/_fastpath.abi3.") for n in names), names
    for version in ("3.11", "3.12", "3.13"):
        assert f"Classifier: Programming Language :: Python :: {version}" in metadata


def test_the_wheel_holds_the_rooms_package_only(wheel: Path) -> None:
    with zipfile.ZipFile(wheel) as archive:
        names = archive.namelist()
    top_level = {n.split("/")[0] for n in names if not n.split("/")[0].endswith(".dist-info")}
    assert top_level == {"rooms"}
    for reference_site in ("config/", "accounts/", "feed/", "templates/", "static/", "tests/"):
        assert not any(n.startswith(reference_site) for n in names), reference_site


def test_the_wheel_holds_templates_static_files_and_migrations(wheel: Path) -> None:
    with zipfile.ZipFile(wheel) as archive:
        names = set(archive.namelist())
    # Every template and static file of the package, as in the checkout.
    for folder in ("templates", "static"):
        shipped = {
            p.relative_to(ROOT).as_posix()
            for p in (ROOT / "rooms" / folder).rglob("*")
            if p.is_file()
        }
        assert shipped, folder
        assert shipped <= names, sorted(shipped - names)
    assert "rooms/templates/rooms/base.html" in names
    assert "rooms/templates/rooms/room.html" in names
    assert "rooms/static/rooms/js/room/main.js" in names
    assert "rooms/static/rooms/css/rooms.css" in names
    migrations = {
        p.relative_to(ROOT).as_posix() for p in (ROOT / "rooms" / "migrations").glob("*.py")
    }
    assert "rooms/migrations/0001_initial.py" in migrations
    assert migrations <= names, sorted(migrations - names)


def test_the_wheel_holds_the_translations(wheel: Path) -> None:
    # Rooms' catalogs and their compiled .mo files (committed, `make messages`), so a site
    # that installs the wheel speaks every shipped language without compiling anything.
    with zipfile.ZipFile(wheel) as archive:
        names = set(archive.namelist())
    locale = {
        p.relative_to(ROOT).as_posix()
        for p in (ROOT / "rooms" / "locale").rglob("*")
        if p.suffix in (".po", ".mo")
    }
    for language in ("ar", "fr"):
        for domain in ("django", "djangojs"):
            assert f"rooms/locale/{language}/LC_MESSAGES/{domain}.mo" in locale
    assert locale <= names, sorted(locale - names)
