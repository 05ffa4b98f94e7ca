# ruff: noqa: S603, S607 - runs make and bash from PATH with fixed arguments
"""The Makefile and the CI script say what the README promises."""

from __future__ import annotations

import os
import shutil
import subprocess
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent

pytestmark = pytest.mark.skipif(shutil.which("make") is None, reason="needs GNU make")


def dry_run(target: str, *flags: str) -> list[str]:
    result = subprocess.run(
        ["make", "-n", "-o", ".venv/.installed", *flags, target],
        cwd=ROOT,
        capture_output=True,
        text=True,
        check=True,
        # Under `make test` the outer make's flags (-o, -k, -j) would leak into this one.
        env={k: v for k, v in os.environ.items() if k not in {"MAKEFLAGS", "MFLAGS", "MAKELEVEL"}},
    )
    return result.stdout.splitlines()


def test_make_test_lints_then_checks_migrations_then_runs_pytest() -> None:
    lines = dry_run("test")
    assert lines[0] == ".venv/bin/ruff check ."
    assert ".venv/bin/ruff format --check ." in lines
    assert ".venv/bin/mypy ." in lines
    assert ".venv/bin/python manage.py makemigrations --check --dry-run" in lines
    assert lines[-1].startswith(".venv/bin/pytest")
    # The browser tests need Debian's Chromium; installed only when missing.
    assert any(
        "test -x /usr/bin/chromium" in line and "apt-get install -y chromium" in line
        for line in lines
    )


def test_make_test_newest_runs_the_suite_on_python_313_and_django_61() -> None:
    install = dry_run("venv-newest", "--always-make")  # as if .venv-newest were not there
    assert any(line.endswith(" -m venv .venv-newest") for line in install)
    assert '.venv-newest/bin/python -m pip install --quiet -e ".[dev]" "Django>=6.1,<6.2"' in (
        install
    )
    lines = dry_run("test-newest", "-o", ".venv-newest/.installed")
    assert ".venv-newest/bin/python manage.py makemigrations --check --dry-run" in lines
    # The browser tests run once, under `make test`.
    assert lines[-1].startswith(".venv-newest/bin/pytest --ignore=tests/browser")


def test_ci_runs_the_oldest_then_the_newest_pair() -> None:
    commands = [
        line.strip()
        for line in (ROOT / ".ci" / "run").read_text().splitlines()
        if line.strip().startswith("make ")
    ]
    # The host-site test (the oldest pair, against the wheel) runs between the two.
    assert commands[-3:] == ["make test", "make test-hostsite", "make test-newest"]


def test_make_run_seeds_then_serves_with_daphne_and_the_embedded_sweep() -> None:
    lines = dry_run("run")
    assert lines[:3] == [
        ".venv/bin/python manage.py migrate --noinput",
        ".venv/bin/python manage.py collectstatic --noinput",
        ".venv/bin/python manage.py seed_demo",
    ]
    # config.embedded runs daphne's own command line, plus the periodic sweep.
    assert lines[-1] == (
        "exec .venv/bin/python -m config.embedded -b 127.0.0.1 -p 8000 config.asgi:application"
    )


def test_ci_script_is_executable_bash() -> None:
    script = ROOT / ".ci" / "run"
    assert os.access(script, os.X_OK)
    subprocess.run(["bash", "-n", str(script)], check=True)


def test_make_test_hostsite_runs_its_runner() -> None:
    assert dry_run("test-hostsite") == ["tests/hostsite/run.sh "]
    runner = ROOT / "tests" / "hostsite" / "run.sh"
    assert os.access(runner, os.X_OK)
    subprocess.run(["bash", "-n", str(runner)], check=True)
