"""Simulcast in real browsers: two Chromium pages publish their camera in layers, and the size
of a tile on the receiving page decides the resolution it receives (getStats follows). A
screen share is published in layers that suit text (full resolution on top, a thumbnail
below): the presenter's large tile receives the full resolution, a small one the thumbnail."""

from __future__ import annotations

import time
from collections.abc import Callable
from functools import partial

from playwright.sync_api import Page, expect

from tests.browser.conftest import People, RoomsServer
from tests.browser.test_media_kinds import enter, my_id, wait_for_tile_video
from tests.browser.test_room_ui import create_room
from tests.browser.test_story import (
    RECEIVING,
    VIDEO_SHOWN_TIMEOUT,
    VIDEO_TIMEOUT,
    expect_remote_video,
    in_room,
    join_signed_in,
)

# A layer switch waits for the SFU's next feedback round and the new layer's keyframe; an
# upgrade also for the viewer's estimate to grow to the layer (15 % a second: ~7 s from the
# low layer's ~300 kbit/s to a paused 640x480 layer's nominal 777 kbit/s), and on a busy
# machine a REMB that fell just before holds the estimate to it for FOLLOW_REMB (20 s).
SWITCH_TIMEOUT = 45_000


# The decoded size and frames of the slot the remote tile shows (other slots may hold stale
# figures from what they carried earlier).
SHOWN_SLOT = """async () => {
    const video = document.querySelector('#grid video.remote');
    const track = video && video.srcObject && video.srcObject.getVideoTracks()[0];
    const pc = window.roomsDebug.media.pc;
    const tx = track && pc.getTransceivers().find(t => t.receiver.track === track);
    if (!tx) return null;
    let out = null;
    (await pc.getStats()).forEach(r => {
        if (r.type === 'inbound-rtp' && r.kind === 'video' && r.mid === tx.mid)
            out = {mid: r.mid, width: r.frameWidth || 0, height: r.frameHeight || 0,
                   frames: r.framesDecoded || 0};
    });
    return out;
}"""


# What the page's camera is sent in: each layer's size, frames and what limits it, and the
# browser's send-side estimate (the nominated pair's available outgoing bitrate).
CAMERA_SENT = """async () => {
    const out = {layers: {}};
    (await window.roomsDebug.media.pc.getStats()).forEach(r => {
        if (r.type === 'outbound-rtp' && r.kind === 'video' && r.rid)
            out.layers[r.rid] = {width: r.frameWidth || 0, frames: r.framesEncoded || 0,
                                 bitrate: r.targetBitrate || 0,
                                 limit: r.qualityLimitationReason};
        if (r.type === 'candidate-pair' && r.nominated)
            out.available = r.availableOutgoingBitrate;
    });
    return out;
}"""


def shown_slot(page: Page) -> dict[str, int]:
    shown = page.evaluate(SHOWN_SLOT)
    assert shown is not None, "no remote tile with a receive slot"
    return dict(shown)


def published_layers(page: Page) -> list[str]:
    """The RTP stream ids the page's camera is sent in (outbound streams with frames)."""
    return sorted(
        page.evaluate(
            """async () => { const out = [];
                (await window.roomsDebug.media.pc.getStats()).forEach(r => {
                    if (r.type === 'outbound-rtp' && r.kind === 'video' && r.rid
                        && r.framesEncoded > 0) out.push(r.rid); });
                return out; }"""
        )
    )


def show_remote_tile(page: Page, width: int, height: int) -> None:
    """Show the remote tile's video at this size (CSS pixels; the test page's ratio is 1)."""
    page.evaluate(
        """([w, h]) => { for (const v of document.querySelectorAll('#grid video.remote')) {
                v.style.width = w + 'px'; v.style.height = h + 'px';
                v.style.flex = 'none'; v.style.objectFit = 'contain'; } }""",
        [width, height],
    )


def poll(page: Page, check: Callable[[], bool], timeout: int, what: str) -> None:
    """Evaluate ``check`` every half second until it holds; fail after ``timeout`` ms.
    (``page.evaluate`` awaits an async function's promise; ``wait_for_function`` would take
    the promise itself for a truthy answer.)"""
    deadline = time.monotonic() + timeout / 1000
    while not check():
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out waiting for {what}")
        page.wait_for_timeout(500)


def wait_for_shown_width(
    page: Page, test: Callable[[int], bool], what: str, timeout: int = SWITCH_TIMEOUT
) -> int:
    """Wait until the shown slot's decoded width passes ``test`` in three polls in a row (a
    browser also scales a layer down for a moment on its own); return that width."""
    streak: list[int] = []

    def check() -> bool:
        # None for a moment while a slot's stream is renewed (new SSRCs after a new answer).
        shown = page.evaluate(SHOWN_SLOT)
        width = int(shown["width"]) if shown else 0
        if width > 0 and test(width):
            streak.append(width)
        else:
            streak.clear()
        return len(streak) >= 3

    poll(page, check, timeout, what)
    return streak[-1]


def frames_beyond(page: Page, count: int) -> bool:
    shown = page.evaluate(SHOWN_SLOT)
    return bool(shown) and int(shown["frames"]) > count


def two_layers_sent(page: Page) -> bool:
    return len(published_layers(page)) >= 2


def test_received_resolution_follows_the_tile_size(
    people: People, rooms_server: RoomsServer
) -> None:
    alice = people.page("alice")
    link = create_room(alice, title="Simulcast room")
    alice.goto(link)
    join_signed_in(alice)
    in_room(alice)
    bob = people.page("bob")
    bob.goto(link)
    join_signed_in(bob)
    in_room(bob)
    expect_remote_video(alice, 1)
    expect_remote_video(bob, 1)

    # Both publish the fake 640x480 camera in the two layers Chromium encodes at that size
    # (scaled by 4 and 1: asked for a third, it would drop the full-size one).
    for page in (alice, bob):
        poll(page, partial(two_layers_sent, page), VIDEO_TIMEOUT, "two layers sent")
        assert published_layers(page) == ["h", "l"]

    # A small tile on Bob's page: he receives Alice's lower layer (160x120).
    show_remote_tile(bob, 120, 90)
    small = wait_for_shown_width(bob, lambda w: w <= 160, "the low layer")
    assert small <= 160

    # A large tile: the top layer follows (Alice's browser starts it once the SFU grants it,
    # its send-side estimate grown on the SFU's transport-cc feedback).
    show_remote_tile(bob, 640, 480)
    try:
        large = wait_for_shown_width(bob, lambda w: w >= 640, "the top layer")
    except AssertionError as exc:
        raise AssertionError(f"{exc}: sent {alice.evaluate(CAMERA_SENT)}") from None
    assert large >= 640

    # And small again: back down.
    show_remote_tile(bob, 120, 90)
    assert wait_for_shown_width(bob, lambda w: w <= 160, "the low layer again") <= 160
    # Frames keep being decoded on that one slot after the switches: its output stream stayed
    # continuous (sequence numbers, timestamps, picture ids), so the decoder never stalled.
    # (On a busy machine the viewer's estimate may collapse and the video be dropped for a
    # while: VIDEO_SHOWN_TIMEOUT.)
    before = shown_slot(bob)["frames"]
    try:
        poll(bob, partial(frames_beyond, bob, before + 10), VIDEO_SHOWN_TIMEOUT, "more frames")
    except AssertionError as exc:
        raise AssertionError(f"{exc}: {bob.evaluate(RECEIVING)}") from None


# The receive slot of the screen tile: what it decodes (getStats), and the size it is shown at.
SCREEN_SLOT = """async () => {
    const video = document.querySelector('#grid .tile--screen video.remote');
    const track = video && video.srcObject && video.srcObject.getVideoTracks()[0];
    const pc = window.roomsDebug.media.pc;
    const tx = track && pc.getTransceivers().find(t => t.receiver.track === track);
    if (!tx) return null;
    let out = {mid: tx.mid, width: 0, height: 0, frames: 0,
               shown: [video.clientWidth, video.clientHeight]};
    (await pc.getStats()).forEach(r => {
        if (r.type === 'inbound-rtp' && r.kind === 'video' && r.mid === tx.mid)
            out = {width: r.frameWidth || 0, height: r.frameHeight || 0,
                   frames: r.framesDecoded || 0, fps: r.framesPerSecond || 0,
                   shown: [video.clientWidth, video.clientHeight]};
    });
    return out;
}"""

# The presenter's screen track and the layers it is sent in (outbound streams with frames).
SCREEN_SENT = """async () => {
    const media = window.roomsDebug.media;
    const track = media.screenTrack;
    if (!track || !media.screenTx) return null;
    const out = {width: track.getSettings().width, height: track.getSettings().height,
                 hint: track.contentHint, mid: media.screenTx.mid,
                 encodings: media.screenTx.sender.getParameters().encodings.map(
                     e => [e.rid, e.scaleResolutionDownBy, e.maxFramerate, e.priority]),
                 layers: {}};
    (await media.pc.getStats()).forEach(r => {
        if (r.type === 'outbound-rtp' && r.mid === media.screenTx.mid && r.rid)
            out.layers[r.rid] = {width: r.frameWidth || 0, frames: r.framesEncoded || 0,
                                 fps: r.framesPerSecond || 0,
                                 limit: r.qualityLimitationReason};
        if (r.type === 'candidate-pair' && r.nominated)
            out.available = r.availableOutgoingBitrate;
    });
    return out;
}"""


def show_screen_tile(page: Page, width: int, height: int) -> None:
    """Show the screen tile's video at this size (CSS pixels; the test page's ratio is 1)."""
    page.evaluate(
        """([w, h]) => { const v = document.querySelector('#grid .tile--screen video.remote');
                v.style.width = w + 'px'; v.style.height = h + 'px';
                v.style.flex = 'none'; v.style.objectFit = 'contain'; }""",
        [width, height],
    )


def wait_for_screen_width(
    page: Page, presenter: Page, test: Callable[[int], bool], what: str
) -> int:
    """Wait until the screen slot's decoded width passes ``test`` in three polls in a row."""
    streak: list[int] = []
    last: list[object] = [None]

    def check() -> bool:
        shown = last[0] = page.evaluate(SCREEN_SLOT)
        width = int(shown["width"]) if shown else 0
        if width > 0 and test(width):
            streak.append(width)
        else:
            streak.clear()
        return len(streak) >= 3

    try:
        poll(page, check, SWITCH_TIMEOUT, what)
    except AssertionError as exc:
        sent = presenter.evaluate(SCREEN_SENT)
        raise AssertionError(f"{exc}: received {last[0]}, sent {sent}") from None
    return streak[-1]


def both_screen_layers_sent(page: Page) -> bool:
    sent = page.evaluate(SCREEN_SENT)
    return bool(sent) and all(sent["layers"].get(rid, {}).get("frames", 0) > 0 for rid in "lh")


def test_a_screen_share_is_received_at_full_resolution_when_shown_large(
    people: People, rooms_server: RoomsServer
) -> None:
    # Alice presents with her camera off: the grant her browser splits is the share's alone
    # (the SFU's downlink estimate grows with what it sends, without probing, so a camera
    # next to the share would delay the full resolution on this loopback).
    link = create_room(people.page("alice"), title="Slides in layers")
    alice = enter(people, "alice", link, camera=False)
    bob = enter(people, "bob", link)
    expect_remote_video(alice, 1)

    alice.get_by_role("button", name="Share your screen").click()
    expect(alice.get_by_role("button", name="Stop sharing your screen")).to_be_visible()
    wait_for_tile_video(bob, "screen", my_id(alice))
    sent = alice.evaluate(SCREEN_SENT)
    assert sent is not None
    full = int(sent["width"])
    # Sent in two layers that suit text: both at the full resolution, 5 and 15 frames a
    # second, with the "text" hint (frames go before resolution) and a high priority (a
    # sender's is its first encoding's).
    assert sent["hint"] == "text", sent
    assert sent["encodings"] == [["l", 1, 5, "high"], ["h", 1, 15, "low"]], sent
    assert min(sent["width"], sent["height"]) >= 360, sent

    # The presenter layout shows the share large: Bob receives the full resolution, and the
    # top layer's frames (15 a second; the low layer has 5): Alice's browser does send it.
    shown = bob.evaluate(SCREEN_SLOT)
    assert shown is not None and 2 * shown["shown"][0] >= full, shown
    assert wait_for_screen_width(bob, alice, lambda w: w == full, "the full resolution") == full
    # (What the viewer decodes is the check: more than the low layer's 5 frames a second is the
    # top layer. Chromium starts sending it once its own estimate allows, which a busy machine
    # delays; what it sends is in the message if it never does.)
    try:
        poll(
            bob,
            lambda: float(bob.evaluate(SCREEN_SLOT)["fps"]) >= 8,
            2 * SWITCH_TIMEOUT,
            "the top layer's frame rate",
        )
    except AssertionError as exc:
        raise AssertionError(f"{exc}: sent {alice.evaluate(SCREEN_SENT)}") from None
    assert both_screen_layers_sent(alice), alice.evaluate(SCREEN_SENT)

    # Shown as a thumbnail: the low layer, still at the full resolution (text stays sharp when
    # the tile is enlarged again), at its few frames a second.
    show_screen_tile(bob, full // 4, full * 9 // 64)
    assert wait_for_screen_width(bob, alice, lambda w: w == full, "the low layer") == full
    poll(
        bob,
        lambda: 0 < float(bob.evaluate(SCREEN_SLOT)["fps"]) <= 6,
        SWITCH_TIMEOUT,
        "the low layer's frame rate",
    )

    # Large again: the full resolution, and frames keep being decoded on that slot.
    show_screen_tile(bob, full * 3 // 4, full * 27 // 64)
    assert wait_for_screen_width(bob, alice, lambda w: w == full, "the full resolution again") == (
        full
    )
    before = int(bob.evaluate(SCREEN_SLOT)["frames"])
    poll(
        bob,
        lambda: int(bob.evaluate(SCREEN_SLOT)["frames"]) > before + 5,
        VIDEO_TIMEOUT,
        "more screen frames",
    )
