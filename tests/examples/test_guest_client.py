"""examples/guest_client.py, the client written against the two schemas only, through a guest's
whole visit on a real daphne (embedded mode, its SFU in-process, media on 127.0.0.1): join
through the link, wait in the lobby, be let in by the host, open the socket, offer media, leave.
The example checks every frame against the socket schema it downloads, and fails on any
mismatch."""

from __future__ import annotations

import asyncio
import json
import os
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest

from tests.rooms.live_harness import REPO_ROOT, Daphne, LiveSocket, join

EXAMPLE = Path(REPO_ROOT) / "examples" / "guest_client.py"

SETUP = """
from rest_framework.authtoken.models import Token
from accounts.models import User
from rooms import services
host = User.objects.create_user(username="host", password="x", display_name="Host")
room = services.room_create(host=host, title="Visit", waiting_room=True)
print(json.dumps({"token": room.token, "key": Token.objects.create(user=host).key}))
"""


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[Daphne, dict[str, str]]]:
    db = tmp_path_factory.mktemp("guest-client") / "db.sqlite3"
    env = {"SQLITE_PATH": str(db), "SFU_ICE_ADDRESSES": "127.0.0.1"}
    base = {k: v for k, v in os.environ.items() if k not in ("DATABASE_URL", "REDIS_URL")}
    run = {**base, **env, "PYTHONPATH": str(REPO_ROOT)}
    manage = [sys.executable, str(Path(REPO_ROOT) / "manage.py")]
    subprocess.run([*manage, "migrate", "-v", "0"], env=run, check=True, timeout=120)  # noqa: S603
    out = subprocess.run(  # noqa: S603
        [*manage, "shell", "-v", "0", "-c", "import json\n" + SETUP],
        env=run,
        check=True,
        timeout=60,
        capture_output=True,
        text=True,
    ).stdout
    world = json.loads(out.strip().splitlines()[-1])
    daphne = Daphne("guest-client", database_url=None, redis_url=None, **env)
    daphne.start()
    try:
        daphne.wait_ready()
        yield daphne, world
    finally:
        daphne.stop()


async def test_a_guest_visit_through_the_example_client(
    server: tuple[Daphne, dict[str, str]],
) -> None:
    daphne, world = server
    token, headers = world["token"], {"Authorization": f"Token {world['key']}"}
    async with httpx.AsyncClient(base_url=daphne.url, headers=headers, timeout=30) as host_api:
        joined = await join(host_api, token)
        host = await LiveSocket.open(daphne, token, joined["ticket"], name="host")
        await host.expect_type("snapshot", timeout=30)
        guest = await asyncio.create_subprocess_exec(
            sys.executable,
            str(EXAMPLE),
            f"{daphne.url}/r/{token}/",
            "--name",
            "Gus",
            "--ice-address",
            "127.0.0.1",
            stdout=asyncio.subprocess.PIPE,
            stderr=asyncio.subprocess.PIPE,
        )
        try:
            # The host sees the guest wait, and lets them in through the API once their
            # socket is open.
            waiting = await host.expect_type("room.lobby_waiting", timeout=60)
            person = waiting["participant"]
            assert person["display_name"] == "Gus"
            assert person["is_guest"]
            await host.expect_type(
                "room.participant_updated",
                timeout=60,
                participant__id=person["id"],
                participant__connected=True,
            )
            admitted = await host_api.post(
                f"/api/rooms/{token}/lobby/admit/", json={"participant_ids": [person["id"]]}
            )
            assert admitted.status_code == 200, admitted.text
            await host.expect_type("room.participant_joined", participant__id=person["id"])
            await host.expect_type(
                "room.participant_left", timeout=90, participant__id=person["id"]
            )
            out, err = await asyncio.wait_for(guest.communicate(), 60)
        finally:
            if guest.returncode is None:
                guest.kill()
                await guest.wait()
        await host.close()
    lines = out.decode().splitlines()
    assert guest.returncode == 0, (lines, err.decode()[-2000:])
    # Whether the guest's socket still saw itself wait depends on how fast the host was.
    steps = [line for line in lines[1:] if not line.startswith("waiting in the lobby")]
    assert steps == [
        "joined: lobby (waiting_room)",
        steps[1],  # the resume token's length
        f"admitted as participant {person['id']} at version {steps[2].rsplit(' ', 1)[1]}",
        "offer answered",
        "media connected",
        "left",
    ], lines
    assert steps[1].startswith("socket open")
