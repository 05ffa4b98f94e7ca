# ruff: noqa: S603 - runs systemd-analyze with fixed arguments
"""The systemd units in deploy/systemd/ run exactly the Procfile's commands, and systemd accepts
them. The Procfile itself is booted for real by tests/test_deploy_procfile.py; systemd cannot run
here, so its units are held to the same commands line by line, and checked by systemd-analyze."""

from __future__ import annotations

import os
import re
import shlex
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from rooms.sfu.worker import DRAIN_SECONDS

ROOT = Path(__file__).resolve().parent.parent
UNITS = ROOT / "deploy" / "systemd"
# Where the units expect the checkout (and its .venv) on a server.
INSTALL_DIR = "/srv/rooms"
ENV_FILE = "/etc/rooms/rooms.env"
PROCESS_TYPES = {"release", "web", "sfu", "worker", "beat"}
LONG_RUNNING = PROCESS_TYPES - {"release"}
DEFAULTED = re.compile(r"\$\{([A-Z_][A-Z0-9_]*):-([^}]*)\}")
REFERENCED = re.compile(r"\$\{([A-Z_][A-Z0-9_]*)\}")


def procfile() -> dict[str, str]:
    """name -> command, read as honcho reads it (honcho.environ.PROCFILE_LINE)."""
    processes = {}
    for line in (ROOT / "Procfile").read_text().splitlines():
        match = re.match(r"^([A-Za-z0-9_-]+):\s*(.+)$", line)
        if match:
            processes[match.group(1)] = match.group(2)
    return processes


def unit(path: Path) -> dict[str, list[tuple[str, str]]]:
    """section -> [(key, value), ...] in order (systemd allows a key more than once)."""
    sections: dict[str, list[tuple[str, str]]] = {}
    current: list[tuple[str, str]] | None = None
    for raw in path.read_text().splitlines():
        line = raw.strip()
        if not line or line.startswith(("#", ";")):
            continue
        if line.startswith("[") and line.endswith("]"):
            current = sections.setdefault(line[1:-1], [])
            continue
        assert current is not None, f"{path.name}: {line!r} outside a section"
        assert not line.endswith("\\"), f"{path.name}: keep each setting on one line"
        key, _, value = line.partition("=")
        current.append((key.strip(), value.strip()))
    return sections


def values(sections: dict[str, list[tuple[str, str]]], section: str, key: str) -> list[str]:
    return [v for k, v in sections.get(section, []) if k == key]


def one(sections: dict[str, list[tuple[str, str]]], section: str, key: str) -> str:
    found = values(sections, section, key)
    assert len(found) == 1, f"[{section}] {key}= should be set once, found {found}"
    return found[0]


def unit_for(process: str) -> Path:
    candidates = [UNITS / f"rooms-{process}.service", UNITS / f"rooms-{process}@.service"]
    existing = [path for path in candidates if path.exists()]
    assert len(existing) == 1, f"one unit for the Procfile's {process!r}, found {existing}"
    return existing[0]


def seconds(value: str) -> float:
    """A systemd time span as the units here write it: 45, 45s, 1min, 1min 30s."""
    total = 0.0
    for number, suffix in re.findall(r"(\d+)\s*(min|s)?", value):
        total += int(number) * (60 if suffix == "min" else 1)
    return total


def test_the_procfile_defines_the_release_step_and_the_four_long_running_processes() -> None:
    processes = procfile()
    assert set(processes) == PROCESS_TYPES
    for command in processes.values():
        # exec: the runner's SIGTERM reaches the process itself (an SFU worker drains on it),
        # and the runner reports the process's own exit status, not the shell's.
        assert command.startswith("exec "), command


def test_each_unit_runs_its_procfile_command_from_the_installed_checkout() -> None:
    for process, command in procfile().items():
        path = unit_for(process)
        sections = unit(path)
        service = sections["Service"]
        assert one(sections, "Service", "WorkingDirectory") == INSTALL_DIR, path.name
        assert one(sections, "Service", "EnvironmentFile") == ENV_FILE, path.name
        assert one(sections, "Service", "User") == "rooms", path.name

        expected = shlex.split(command.removeprefix("exec "))
        defaults = dict(DEFAULTED.findall(command))
        expected = [DEFAULTED.sub(r"${\1}", word) for word in expected]
        actual = shlex.split(one(sections, "Service", "ExecStart"))
        # The same program, from the checkout's virtualenv (the Procfile finds it on PATH) ...
        assert actual[0] == f"{INSTALL_DIR}/.venv/bin/{expected[0]}", path.name
        # ... with the same arguments, word for word.
        assert actual[1:] == expected[1:], f"{path.name}: {actual} != Procfile {expected}"

        # Every variable on the command line gets a value in the unit itself, so it never
        # expands to nothing when the environment file leaves it out (the Procfile's ${X:-d}).
        environment = dict(value.split("=", 1) for key, value in service if key == "Environment")
        used = set(REFERENCED.findall(one(sections, "Service", "ExecStart")))
        assert used == set(defaults), f"{path.name} uses {used}, the Procfile {set(defaults)}"
        for name in used:
            assert environment.get(name), f"{path.name}: no Environment={name}=..."
        # Environment= comes first: the environment file may override it.
        keys = [key for key, _ in service]
        if environment:
            assert keys.index("EnvironmentFile") > max(
                i for i, key in enumerate(keys) if key == "Environment"
            ), path.name


def test_the_web_unit_is_one_daphne_per_port_and_the_sfu_unit_one_worker_per_instance() -> None:
    web = unit(unit_for("web"))
    assert unit_for("web").name == "rooms-web@.service"
    assert "PORT=%i" in values(web, "Service", "Environment")
    assert unit_for("sfu").name == "rooms-sfu@.service"


def test_long_running_units_restart_on_failure_and_stop_gracefully() -> None:
    for process in LONG_RUNNING:
        path = unit_for(process)
        sections = unit(path)
        assert one(sections, "Service", "Restart") in ("on-failure", "always"), path.name
        assert one(sections, "Install", "WantedBy") == "rooms.target", path.name
        assert one(sections, "Unit", "PartOf") == "rooms.target", path.name
        assert values(sections, "Service", "KillSignal") in ([], ["SIGTERM"]), path.name
    release = unit(unit_for("release"))
    assert one(release, "Service", "Type") == "oneshot"
    assert not values(release, "Install", "WantedBy")  # run once per deploy, by hand


def test_an_sfu_worker_is_restarted_after_a_failure_and_given_time_to_drain() -> None:
    sfu = unit(unit_for("sfu"))
    # A worker whose loop fails exits with status 1 (rooms/sfu/worker.py): systemd restarts it.
    assert one(sfu, "Service", "Restart") == "on-failure"
    # SIGTERM drains for up to DRAIN_SECONDS, then the worker closes; SIGKILL must not come first.
    stop = seconds(one(sfu, "Service", "TimeoutStopSec"))
    assert stop >= DRAIN_SECONDS + 10, f"TimeoutStopSec={stop}s leaves no time to drain"
    assert values(sfu, "Service", "SendSIGKILL") in ([], ["yes"])


def test_the_environment_file_example_names_only_real_settings() -> None:
    """A misspelt name in /etc/rooms/rooms.env is silently ignored: the example must not
    teach one. Every name it sets (or shows commented out) is read by config/settings.py or
    used by the Procfile."""
    settings = (ROOT / "config" / "settings.py").read_text()
    known = set(re.findall(r"env_\w+\(\s*\"([A-Z_][A-Z0-9_]*)\"", settings))
    known |= {name for name, _ in DEFAULTED.findall((ROOT / "Procfile").read_text())}
    example = (ROOT / "deploy" / "rooms.env.example").read_text()
    named = re.findall(r"^#?\s*([A-Z_][A-Z0-9_]*)=", example, flags=re.MULTILINE)
    assert named, "the example sets nothing"
    assert set(named) - known == set()
    # PORT belongs to the runner (honcho -p, the web unit's instance): never in the file.
    assert "PORT" not in named
    for required in ("DATABASE_URL", "REDIS_URL", "SECRET_KEY", "BEHIND_TLS_PROXY"):
        assert required in named


def test_systemd_accepts_the_units(tmp_path: Path) -> None:
    """systemd-analyze verify, on copies whose install directory holds this virtualenv (verify
    insists that each ExecStart program exists). Any complaint at all fails the test."""
    analyze = shutil.which("systemd-analyze")
    if analyze is None:
        if os.environ.get("ROOMS_REQUIRE_SERVICES"):
            pytest.fail("ROOMS_REQUIRE_SERVICES is set but systemd-analyze is not installed")
        pytest.skip("needs systemd-analyze (Debian: systemd)")
    install = tmp_path / "install"
    install.mkdir()
    (install / ".venv").symlink_to(sys.prefix, target_is_directory=True)
    units = tmp_path / "units"
    units.mkdir()
    for path in UNITS.iterdir():
        (units / path.name).write_text(path.read_text().replace(INSTALL_DIR, str(install)))
    names = sorted(
        path.name.replace("@.", "@8000." if "web" in path.name else "@1.")
        for path in UNITS.iterdir()
    )
    assert "rooms-web@8000.service" in names and "rooms-sfu@1.service" in names
    result = subprocess.run(
        [analyze, "verify", "--man=no", *names],
        cwd=units,
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert (result.returncode, result.stdout + result.stderr) == (0, "")

    # The check can fail: a unit systemd would refuse is reported.
    (units / "rooms-worker.service").write_text(
        (units / "rooms-worker.service").read_text().replace("Restart=", "Restrat=")
    )
    broken = subprocess.run(
        [analyze, "verify", "--man=no", "rooms-worker.service"],
        cwd=units,
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert "Restrat" in broken.stdout + broken.stderr
