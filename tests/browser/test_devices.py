"""Joining whatever the camera and microphone are doing: still opening when Join is pressed
(getUserMedia takes seconds on a slow machine), or not there at all."""

from __future__ import annotations

from playwright.sync_api import Page

from tests.browser.conftest import People, RoomsServer
from tests.browser.test_room_ui import create_room
from tests.browser.test_story import expect_remote_video, in_room, join_signed_in

# getUserMedia answering only after 3 s, as on a loaded machine or a slow camera: the page
# is ready and Join is pressed long before.
SLOW_CAMERA = """
const getUserMedia = navigator.mediaDevices.getUserMedia.bind(navigator.mediaDevices);
navigator.mediaDevices.getUserMedia = (...args) =>
  new Promise((resolve) => setTimeout(resolve, 3000)).then(() => getUserMedia(...args));
"""

# No camera and no microphone on this machine.
NO_DEVICES = """
navigator.mediaDevices.getUserMedia = () =>
  Promise.reject(new DOMException("Requested device not found", "NotFoundError"));
"""

SENDING_VIDEO = """async () => {
    const pc = window.roomsDebug.media.pc;
    if (!pc) return false;
    let sending = false;
    (await pc.getStats()).forEach(r => {
        if (r.type === 'outbound-rtp' && r.kind === 'video' && r.framesEncoded > 0) sending = true;
    });
    return sending;
}"""


def joined_alone(people: People, init_script: str) -> tuple[Page, str]:
    alice = people.page("alice")
    alice.context.add_init_script(init_script)
    link = create_room(alice, title="Devices")
    alice.goto(link)
    join_signed_in(alice)  # as soon as the page is ready, devices or not
    in_room(alice)
    return alice, link


def test_a_camera_still_opening_when_join_is_pressed_is_the_one_published(
    people: People, rooms_server: RoomsServer
) -> None:
    """Join pressed while the preview's camera is still opening: the call waits for it and
    publishes it (it started with none before, for the whole call)."""
    alice, link = joined_alone(people, SLOW_CAMERA)
    bob = people.page("bob")
    bob.goto(link)
    join_signed_in(bob)
    in_room(bob)
    expect_remote_video(bob, 1)
    assert alice.evaluate(SENDING_VIDEO)


def test_someone_alone_with_no_devices_receives_those_who_join_later(
    people: People, rooms_server: RoomsServer
) -> None:
    """No camera, no microphone, and nobody else in the room yet: the media connection still
    comes up (an offer with no media at all was refused by the browser and retried forever),
    so the people who join later are seen and heard."""
    alice, link = joined_alone(people, NO_DEVICES)
    bob = people.page("bob")
    bob.goto(link)
    join_signed_in(bob)
    in_room(bob)
    expect_remote_video(alice, 1)
