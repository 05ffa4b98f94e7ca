"""examples/guest_client.py, the client written against the two schemas only, through a guest's
whole visit on a real daphne (embedded mode, its SFU in-process, media on 127.0.0.1): join
through the link, wait in the lobby, be let in by the host, open the socket, offer media, leave.
The example checks every frame against the socket schema it downloads, and fails on any
mismatch."""

from __future__ import annotations

import asyncio
import sys
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest

from tests.rooms.live_harness import REPO_ROOT, Daphne, LiveSocket, embedded_site, join

EXAMPLE = Path(REPO_ROOT) / "examples" / "guest_client.py"


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[Daphne, dict[str, str]]]:
    directory = tmp_path_factory.mktemp("guest-client")
    with embedded_site("guest-client", directory, title="Visit", waiting_room=True) as site:
        yield site


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
