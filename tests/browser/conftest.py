"""Real-browser tests: Debian's Chromium driven by Playwright, against a real daphne.

Everything that carries media runs inside a private network namespace with only `lo` up
(see /work/shared/research/browser-webrtc-tests.md): the server (embedded mode: SQLite file,
in-memory channel layer, in-process SFU on 127.0.0.1) and Chromium, launched through a small
wrapper script that enters the namespace. Playwright's own driver stays outside and talks to
Chromium over its stdio pipe.

The fixtures are package-scoped, not session-scoped: Playwright's sync API keeps an event
loop running while the browser is open, and the async tests elsewhere need it gone.

Without Chromium, root or `ip`, these tests skip locally and fail in CI (CI=true or
ROOMS_REQUIRE_SERVICES set): `make test` installs Chromium first.
"""

from __future__ import annotations

import json
import os
import shutil
import socket
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest

ROOT = Path(__file__).resolve().parents[2]
ARTIFACTS = ROOT / "artifacts" / "browser"
CHROMIUM_CANDIDATES = ("/usr/lib/chromium/chromium", "/usr/bin/chromium")
DEMO_PASSWORD = "rooms-demo-2026"  # feed/management/commands/seed_demo.py
START_TIMEOUT = 30.0

try:
    from playwright.sync_api import (
        Browser,
        BrowserContext,
        Page,
        Playwright,
        WebSocket,
        sync_playwright,
    )
except ImportError:  # pragma: no cover - reported by the fixture below
    sync_playwright = None  # type: ignore[assignment]


def _required() -> bool:
    return bool(os.environ.get("CI") == "true" or os.environ.get("ROOMS_REQUIRE_SERVICES"))


def _unavailable(reason: str) -> None:
    if _required():
        pytest.fail(f"browser tests cannot run: {reason}")
    pytest.skip(f"browser tests need {reason}")


def _chromium() -> str | None:
    return next((p for p in CHROMIUM_CANDIDATES if os.access(p, os.X_OK)), None)


def _free_port() -> int:
    # Ports are per namespace; any port free here is as good as another inside it.
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@dataclass
class RoomsServer:
    url: str
    namespace: str
    workdir: Path
    env: dict[str, str]
    metrics: dict[str, Any] = field(default_factory=dict)

    def manage(self, *args: str) -> str:
        """Run a management command against the server's database (outside the namespace)."""
        result = subprocess.run(
            [sys.executable, "manage.py", *args],
            cwd=ROOT,
            env=self.env,
            capture_output=True,
            text=True,
            timeout=60,
            check=True,
        )
        return result.stdout


@pytest.fixture(scope="package")
def namespace() -> Iterator[str]:
    if sync_playwright is None:
        _unavailable("the playwright package (pip install -e '.[dev]')")
    if _chromium() is None:
        _unavailable("Chromium (apt-get install -y chromium; `make test` does it)")
    if os.geteuid() != 0 or shutil.which("ip") is None:
        _unavailable("root and iproute2 for a loopback-only network namespace")
    name = f"rooms-bt-{os.getpid()}"
    subprocess.run(["ip", "netns", "add", name], check=True, timeout=10)
    try:
        subprocess.run(
            ["ip", "netns", "exec", name, "ip", "link", "set", "lo", "up"], check=True, timeout=10
        )
        yield name
    finally:
        subprocess.run(["ip", "netns", "del", name], check=False, timeout=10)


def _wait_for_port(namespace: str, port: int, process: subprocess.Popen[bytes]) -> None:
    probe = (
        "import socket,sys\n"
        f"s=socket.socket();s.settimeout(0.5)\n"
        f"sys.exit(s.connect_ex(('127.0.0.1',{port})))\n"
    )
    deadline = time.monotonic() + START_TIMEOUT
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise RuntimeError("daphne exited during start-up; see artifacts/browser/server.log")
        ok = subprocess.run(
            ["ip", "netns", "exec", namespace, sys.executable, "-c", probe], timeout=10
        )
        if ok.returncode == 0:
            return
        time.sleep(0.2)
    raise RuntimeError("daphne did not start listening in time")


@pytest.fixture(scope="package")
def rooms_server(namespace: str) -> Iterator[RoomsServer]:
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    workdir = Path(tempfile.mkdtemp(prefix="rooms-browser-"))
    env = {
        k: v
        for k, v in os.environ.items()
        if k not in ("DATABASE_URL", "REDIS_URL", "DJANGO_SETTINGS_MODULE")
    }
    env.update(
        {
            "PYTHONPATH": str(ROOT),
            "DEBUG": "true",
            "SQLITE_PATH": str(workdir / "db.sqlite3"),
            "SFU_ICE_ADDRESSES": "127.0.0.1",
            "PYTHONUNBUFFERED": "1",
            # The browser tests' hosts create more rooms in an hour than a person may (20):
            # the limit has its own tests (tests/rooms/test_api_rooms.py, the API's 429).
            "ROOMS_CREATED_PER_HOUR": "1000",
        }
    )
    port = _free_port()
    server = RoomsServer(
        url=f"http://127.0.0.1:{port}", namespace=namespace, workdir=workdir, env=env
    )
    server.manage("migrate", "--noinput")
    server.manage("seed_demo")
    daphne = str(Path(sys.executable).parent / "daphne")
    log = (ARTIFACTS / "server.log").open("wb")
    command = ["ip", "netns", "exec", namespace, daphne, "-b", "127.0.0.1", "-p", str(port)]
    process = subprocess.Popen(
        [*command, "config.asgi:application"],
        cwd=ROOT,
        env=env,
        stdout=log,
        stderr=subprocess.STDOUT,
    )
    try:
        _wait_for_port(namespace, port, process)
        yield server
    finally:
        process.terminate()
        try:
            process.wait(timeout=10)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait(timeout=5)
        log.close()
        if server.metrics:
            (ARTIFACTS / "metrics.json").write_text(json.dumps(server.metrics, indent=2))
        shutil.rmtree(workdir, ignore_errors=True)


@pytest.fixture(scope="package")
def browser(namespace: str) -> Iterator[Browser]:
    chromium = _chromium()
    assert chromium is not None
    launcher = Path(tempfile.mkdtemp(prefix="rooms-chromium-")) / "chromium-in-netns"
    # Chromium honours only its last --disable-features switch: merge Playwright's list with
    # ours into one. Host addresses must not hide behind mDNS names (aioice would try to
    # resolve them and stall).
    launcher.write_text(
        "#!/bin/bash\n"
        'features="WebRtcHideLocalIpsWithMdns"\n'
        "args=()\n"
        'for a in "$@"; do\n'
        '  case "$a" in\n'
        '    --disable-features=*) features="$features,${a#--disable-features=}" ;;\n'
        '    *) args+=("$a") ;;\n'
        "  esac\n"
        "done\n"
        f'exec ip netns exec {namespace} {chromium} "${{args[@]}}" '
        '"--disable-features=$features"\n'
    )
    launcher.chmod(0o755)
    assert sync_playwright is not None
    with sync_playwright() as playwright:
        browser = _launch(playwright, str(launcher))
        yield browser
        browser.close()
    shutil.rmtree(launcher.parent, ignore_errors=True)


def _launch(playwright: Playwright, executable: str) -> Browser:
    return playwright.chromium.launch(
        executable_path=executable,
        headless=True,
        timeout=30_000,
        args=[
            "--use-fake-ui-for-media-stream",
            "--use-fake-device-for-media-stream",
            "--allow-loopback-in-peer-connection",
            "--autoplay-policy=no-user-gesture-required",
        ],
    )


class People:
    """Browser contexts for the demo people (and guests), each with its own cookies."""

    def __init__(self, browser: Browser, server: RoomsServer) -> None:
        self.browser = browser
        self.server = server
        self.contexts: list[BrowserContext] = []
        # Every WebSocket frame the pages exchange: (socket, direction as the server sees it,
        # the text), checked against the socket contract when the test ends.
        self.frames: list[tuple[str, str, str]] = []

    def _watch(self, ws: WebSocket) -> None:
        which = "feed" if "/ws/feed/" in ws.url else "room"

        def keep(direction: str, payload: str | bytes) -> None:
            if isinstance(payload, str):
                self.frames.append((which, direction, payload))

        ws.on("framesent", lambda payload: keep("receive", payload))
        ws.on("framereceived", lambda payload: keep("send", payload))

    def contract_violations(self) -> list[str]:
        from tests import socket_contract

        found: list[str] = []
        for which, direction, text in self.frames:
            if direction == "send":
                found += socket_contract.server_frame(which, text)
            elif which == "room":
                found += socket_contract.client_frame(json.loads(text))
        return found

    def page(self, username: str | None = None, *, width: int = 1280, height: int = 800) -> Page:
        context = self.browser.new_context(
            base_url=self.server.url,
            viewport={"width": width, "height": height},
            permissions=["camera", "microphone", "clipboard-read", "clipboard-write"],
        )
        context.set_default_timeout(15_000)
        self.contexts.append(context)
        page = context.new_page()
        page.on("websocket", self._watch)
        who = username or "guest"
        page.on("pageerror", lambda error: print(f"[{who}] page error: {error}"))
        # Warnings and errors from the page (media retries, refused offers) are printed, so a
        # failing test shows them in its captured output.
        page.on(
            "console",
            lambda msg: (
                print(f"[{who}] console.{msg.type}: {msg.text}")
                if msg.type in ("warning", "error")
                else None
            ),
        )
        if username is not None:
            page.goto("/accounts/login/")
            page.get_by_label("Username").fill(username)
            page.get_by_label("Password").fill(DEMO_PASSWORD)
            page.get_by_role("button", name="Log in").click()
            page.wait_for_url(f"{self.server.url}/")
        return page

    def close(self) -> None:
        for context in self.contexts:
            context.close()


@pytest.fixture
def people(browser: Browser, rooms_server: RoomsServer) -> Iterator[People]:
    crowd = People(browser, rooms_server)
    yield crowd
    crowd.close()
    violations = crowd.contract_violations()
    assert not violations, "socket frames outside the contract:\n" + "\n".join(violations[:20])


def shot(page: Page, name: str) -> None:
    """Keep a screenshot of a step (artifacts/browser/, gitignored)."""
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(ARTIFACTS / f"{name}.png"))
