"""The speaking person is visible: a ring drawn above their playing video, and a speaker whose
tile is scrolled out of the grid is brought to its front."""

from __future__ import annotations

from typing import Any

from PIL import Image
from playwright.sync_api import Page, expect

from tests.browser.conftest import ARTIFACTS, People, shot
from tests.browser.test_room_ui import create_room
from tests.browser.test_story import VIDEO_TIMEOUT, expect_remote_video, in_room, ready

RING_GREENS = ((0x34, 0xA8, 0x53), (0x5F, 0xD0, 0x7A))  # .is-speaking, .is-active (rooms.css)


def join_muted(page: Page) -> None:
    """Join from the pre-join screen with the microphone off (the fake microphones beep)."""
    expect(page.locator("#screen-prejoin")).to_be_visible()
    ready(page)
    expect(page.locator("#pre-mic")).to_be_enabled()
    page.locator("#pre-mic").click()
    expect(page.locator("#pre-mic")).to_have_attribute("aria-label", "Microphone off")
    page.get_by_role("button", name="Join room").click()
    in_room(page)


def tile_of(page: Page, pid: int) -> str:
    return f"#grid .tile[data-pid='{pid}'][data-kind='camera']"


def shown_share(page: Page, selector: str) -> float:
    """How much of the tile shows inside the grid's scrolled box (0 to 1)."""
    return float(
        page.evaluate(
            """(sel) => { const g = document.getElementById('grid').getBoundingClientRect();
                const r = document.querySelector(sel).getBoundingClientRect();
                const shown = Math.min(r.bottom, g.bottom) - Math.max(r.top, g.top);
                return Math.max(0, shown) / r.height; }""",
            selector,
        )
    )


def is_ring_green(pixel: Any) -> bool:
    return any(all(abs(pixel[i] - green[i]) <= 24 for i in range(3)) for green in RING_GREENS)


def ring_share(image: Image.Image) -> float:
    """The share of the tile's edge that is ring-green: for each point along the four edges
    (corners left out, the tile's rounded corners cut them), whether at least 2 of the 5
    outermost pixels across the edge are ring-green (the ring is 3 px; the element's box may
    start mid-pixel)."""
    width, height = image.size
    pixels = image.load()
    assert pixels is not None
    lines = [[(x, d) for d in range(5)] for x in range(12, width - 12)]
    lines += [[(x, height - 1 - d) for d in range(5)] for x in range(12, width - 12)]
    lines += [[(d, y) for d in range(5)] for y in range(12, height - 12)]
    lines += [[(width - 1 - d, y) for d in range(5)] for y in range(12, height - 12)]
    return sum(sum(is_ring_green(pixels[p]) for p in line) >= 2 for line in lines) / len(lines)


def test_the_speaker_ring_shows_above_video_and_the_grid_brings_speakers_into_view(
    people: People,
) -> None:
    # Alice on a phone-sized window: the grid shows about two tiles, the third is scrolled away.
    alice = people.page("alice", width=390, height=440)
    link = create_room(alice, title="Who is talking")
    alice.goto(link)
    join_muted(alice)
    bob = people.page("bob")
    bob.goto(link)
    join_muted(bob)
    carol = people.page("charlie")
    carol.goto(link)
    join_muted(carol)
    expect(alice.locator("#people-count")).to_have_text("3")
    expect_remote_video(alice, 2)
    carol_id = int(carol.evaluate("() => window.roomsDebug.you.id"))
    carol_tile = tile_of(alice, carol_id)
    expect(alice.locator(carol_tile)).not_to_have_class("tile is-speaking")
    assert shown_share(alice, carol_tile) < 0.5, "the test needs a speaker out of view"
    shot(alice, "40-speaker-out-of-view")

    # Charlie unmutes; his fake microphone beeps and the SFU names him as the speaker.
    carol.get_by_role("button", name="Microphone off").click()
    speaking = alice.locator(f"{carol_tile}.is-speaking.has-video")
    expect(speaking).to_be_attached(timeout=VIDEO_TIMEOUT)
    # The grid brought him to its front, in view.
    alice.wait_for_function(
        "(s) => document.getElementById('grid').firstElementChild === document.querySelector(s)",
        arg=carol_tile,
        timeout=VIDEO_TIMEOUT,
    )
    expect(speaking).to_be_in_viewport()
    assert shown_share(alice, carol_tile) > 0.9

    # His video plays under the ring: frames keep coming and the tile's edge band is ring-green.
    alice.wait_for_function(
        """(sel) => { const v = document.querySelector(sel + ' video');
                      return v && v.videoWidth > 0 && !v.paused && v.readyState >= 2; }""",
        arg=carol_tile,
    )
    frames = alice.evaluate(
        "(s) => document.querySelector(s + ' video').getVideoPlaybackQuality().totalVideoFrames",
        carol_tile,
    )
    alice.wait_for_function(
        """([sel, n]) => document.querySelector(sel + ' video')
                            .getVideoPlaybackQuality().totalVideoFrames > n""",
        arg=[carol_tile, frames],
    )
    alice.wait_for_timeout(300)  # the ring's colour transition (0.15 s) has ended
    path = ARTIFACTS / "41-speaker-ring-tile.png"
    alice.locator(carol_tile).screenshot(path=str(path))
    image = Image.open(path).convert("RGB")
    ring = ring_share(image)
    # The control: the same measure well inside the tile, on the video itself.
    inside = ring_share(image.crop((10, 10, image.width - 10, image.height - 10)))
    assert ring > 0.95, f"ring-green share of the tile's edge: {ring:.3f}"
    assert inside < 0.2, f"the video itself is ring-green ({inside:.3f}): the test proves nothing"
    shot(alice, "42-speaker-in-view")
