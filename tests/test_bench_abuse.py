"""The abuse benchmark's flood figure: what counts as a hand change that reached the room."""

from bench.abuse import hand_changes


def person(pid: int, *, raised: bool) -> dict[str, object]:
    return {"id": pid, "hand_raised": raised, "connected": True}


def test_only_changes_of_the_flooders_hands_count_from_the_snapshot_on() -> None:
    received = [
        (1.0, {"type": "snapshot", "roster": [person(7, raised=True), person(8, raised=False)]}),
        # Already raised in the snapshot: no change.
        (2.0, {"type": "room.participant_updated", "participant": person(7, raised=True)}),
        (3.0, {"type": "room.participant_updated", "participant": person(7, raised=False)}),
        # Someone else's hand.
        (4.0, {"type": "room.participant_updated", "participant": person(8, raised=True)}),
        # A re-join: a new participant of the flooder, first seen with its hand down.
        (5.0, {"type": "room.participant_joined", "participant": person(9, raised=False)}),
        (6.0, {"type": "room.participant_updated", "participant": person(9, raised=True)}),
        (7.0, {"type": "room.version", "version": 12}),
        (8.0, {"type": "room.participant_updated", "participant": person(7, raised=True)}),
    ]
    assert hand_changes(received, {7, 9}) == [(3.0, 7, False), (6.0, 9, True), (8.0, 7, True)]
