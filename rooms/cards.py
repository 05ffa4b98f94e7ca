"""Live room cards in feeds: tell every feed that may show a room that the room changed.

Each connected feed socket then reads the card for its own viewer (friends inside differ from
viewer to viewer, and visibility is checked again there), so a card is computed only for people
who are looking, and it is the same card the feed API returns.
"""

from __future__ import annotations

from rooms import events, outbox, selectors
from rooms.models import Room

# Changes that alter what a card shows: live or not, the count, who is inside, the title.
CARD_KINDS = frozenset(
    {
        "room.created",
        "room.opened",
        "room.updated",
        "room.ended",
        "participant.admitted",
        "participant.left",
        "participant.removed",
    }
)


def publish_after_commit(room: Room) -> None:
    """MUST be called inside the transaction that changed the room."""
    room_id, token = room.pk, room.token

    def publish() -> None:
        current = Room.objects.select_related("host").filter(pk=room_id).first()
        if current is None:
            return
        message = {"type": "feed.room_changed", "room_id": room_id, "token": token}
        for user_id in selectors.room_audience_ids(room=current):
            events.send_now(events.feed_group(user_id), message)

    outbox.after_commit("feed card", publish)
