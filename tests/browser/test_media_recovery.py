"""A media connection the browser can no longer renegotiate is replaced by a new one, and the
people on both sides see each other again."""

from __future__ import annotations

from tests.browser.conftest import People
from tests.browser.test_room_ui import create_room
from tests.browser.test_story import expect_remote_video, in_room, join_signed_in

# What Chromium once threw on every offer after a rejoin under load (CI, 2026-12-02): the
# connection was stuck and the host's camera stayed dark for everybody.
BREAK_OFFERS = """() => {
    const media = window.roomsDebug.media;
    window.brokenPc = media.pc;
    media.pc.createOffer = () => Promise.reject(new DOMException(
        'Session error code: ERROR_CONTENT. Session error description: max-bundle configured'
        + ' but session description has no BUNDLE group.', 'OperationError'));
    media.offer();
}"""


def test_a_connection_that_cannot_offer_is_rebuilt(people: People) -> None:
    alice = people.page("alice")
    link = create_room(alice, title="Recovery room")
    alice.goto(link)
    join_signed_in(alice)
    in_room(alice)
    charlie = people.page("charlie")
    charlie.goto(link)
    join_signed_in(charlie)
    in_room(charlie)
    expect_remote_video(charlie, 1)
    expect_remote_video(alice, 1)

    alice.evaluate(BREAK_OFFERS)
    alice.wait_for_function(
        """() => { const pc = window.roomsDebug.media.pc;
                   return pc !== window.brokenPc && pc.connectionState === 'connected'; }""",
        timeout=20_000,
    )
    assert alice.evaluate("() => window.brokenPc.connectionState") == "closed"
    # Both ways again, on the new connection.
    expect_remote_video(charlie, 1)
    expect_remote_video(alice, 1)
