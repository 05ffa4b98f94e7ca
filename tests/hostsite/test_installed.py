"""Rooms as this site has it: the package installed from the wheel, nothing of the reference
site, and a project that checks and migrates cleanly."""

from __future__ import annotations

import importlib.metadata
import importlib.util
import sysconfig
from io import StringIO
from pathlib import Path
from typing import Any

import pytest
from django.apps import apps
from django.contrib.staticfiles import finders
from django.core.management import call_command
from django.template.loader import get_template

import rooms


def site_packages() -> set[Path]:
    """The running interpreter's own site-packages (the virtualenv's)."""
    paths = sysconfig.get_paths()
    return {Path(paths["purelib"]).resolve(), Path(paths["platlib"]).resolve()}


def package_dir() -> Path:
    return Path(rooms.__file__).resolve().parent


def test_rooms_is_the_installed_wheel() -> None:
    """Not a source checkout on the path: the package of the virtualenv this test runs in."""
    assert package_dir().parent in site_packages(), rooms.__file__
    dist = importlib.metadata.distribution("rooms")
    assert dist.read_text("INSTALLER") is not None  # installed by pip, not an egg-link
    assert dist.read_text("direct_url.json") is None or "editable" not in (
        dist.read_text("direct_url.json") or ""
    )


def test_the_wheel_holds_rooms_only() -> None:
    files = importlib.metadata.distribution("rooms").files or []
    top = {f.parts[0] for f in files if not f.parts[0].endswith((".dist-info", ".data"))}
    assert top == {"rooms"}, top
    for name in ("accounts", "feed", "config"):
        assert importlib.util.find_spec(name) is None, f"{name} is importable"


def test_the_wheel_is_tagged_for_the_stable_abi() -> None:
    """Its one compiled module (the SFU's forwarding loop) uses the stable ABI: one wheel for
    every supported Python."""
    wheel = importlib.metadata.distribution("rooms").read_text("WHEEL") or ""
    tags = [line.split(":", 1)[1].strip() for line in wheel.splitlines() if line.startswith("Tag:")]
    assert tags and all("-abi3-" in tag for tag in tags), tags


def test_templates_static_files_and_migrations_come_from_the_package() -> None:
    inside = package_dir()
    template = get_template("rooms/room.html")
    assert Path(template.origin.name).resolve().is_relative_to(inside)
    found = finders.find("rooms")
    assert found, "no rooms/ static directory"
    assert Path(found).resolve().is_relative_to(inside)
    statics = [p for p in (inside / "static" / "rooms").rglob("*") if p.is_file()]
    assert any(p.suffix == ".js" for p in statics), statics
    assert any(p.suffix == ".css" for p in statics), statics
    migrations = Path(apps.get_app_config("rooms").path) / "migrations"
    assert migrations.resolve().is_relative_to(inside)
    assert any(migrations.glob("0001_*.py"))


def test_collectstatic_gathers_rooms_scripts_and_styles(settings: Any, tmp_path: Path) -> None:
    settings.STATIC_ROOT = tmp_path / "static"
    call_command("collectstatic", "--noinput", verbosity=0)
    for name in ("rooms/js/room/main.js", "rooms/js/lib/api.js", "rooms/css/rooms.css"):
        assert (settings.STATIC_ROOT / name).is_file(), name


def test_the_site_passes_its_system_checks(db: None) -> None:
    """What `manage.py check`, `migrate` and `runserver` run first. The site sets the adapter,
    its base template, session-only API authentication (it has no rest_framework.authtoken),
    the SFU's addresses and, with HOSTSITE_REDIS_URL, Rooms' Redis; nothing else of Rooms'.
    (The model checks ask SQLite whether it has JSON fields: the database fixture.)"""
    call_command("check", "--fail-level", "WARNING", stdout=StringIO())


def test_no_model_of_rooms_or_the_site_needs_a_migration(db: None) -> None:
    out = StringIO()
    call_command("makemigrations", "--check", "--dry-run", "--skip-checks", stdout=out)
    assert "No changes detected" in out.getvalue()


@pytest.mark.django_db
def test_rooms_tables_exist_after_migrate() -> None:
    from rooms.models import Room

    assert Room.objects.count() == 0


def test_rooms_tasks_belong_to_the_sites_celery_app(db: None) -> None:
    """Importing rooms creates no Celery app: its tasks are shared tasks that the site's own
    app (hostsite/celery.py) discovers. (Celery's Django fixup runs the system checks when it
    imports the tasks: the database fixture.)"""
    from celery import current_app
    from hostsite.celery import app

    app.loader.import_default_modules()
    assert current_app.main == "hostsite"
    names = [name for name in app.tasks if name.startswith("rooms.")]
    # The two README's beat schedule names.
    assert {"rooms.tasks.sweep_rooms", "rooms.tasks.sweep_announcements"} <= set(names), names
