from __future__ import annotations

from rooms.sfu import placement as places
from rooms.sfu.placement import MemoryPlacement, WorkerInfo


def store_with(*workers: WorkerInfo) -> MemoryPlacement:
    store = MemoryPlacement(dead_after=2.0)
    for worker in workers:
        store.heartbeat(worker)
    return store


def test_least_loaded_live_worker_gets_a_new_room_and_keeps_it() -> None:
    store = store_with(WorkerInfo("a", "sfu.a", 5, 100.0), WorkerInfo("b", "sfu.b", 1, 100.0))
    chosen = places.place(store, 1, now=100.5)
    assert chosen is not None and chosen.worker_id == "b"
    store.heartbeat(WorkerInfo("b", "sfu.b", 50, 101.0))  # b got busy: the room stays
    again = places.place(store, 1, now=101.0)
    assert again is not None and again.worker_id == "b"


def test_no_live_worker_means_no_media() -> None:
    store = store_with(WorkerInfo("a", "sfu.a", 0, 100.0))
    assert places.place(store, 1, now=103.0) is None
    assert store.pins() == {}


def test_dead_workers_rooms_are_spread_over_the_living() -> None:
    store = store_with(
        WorkerInfo("a", "sfu.a", 0, 100.0),
        WorkerInfo("b", "sfu.b", 0, 100.0),
        WorkerInfo("c", "sfu.c", 0, 100.0),
    )
    for room in (1, 2, 3, 4):
        store.pin_if_absent(room, "a")
    store.heartbeat(WorkerInfo("b", "sfu.b", 0, 103.0))
    store.heartbeat(WorkerInfo("c", "sfu.c", 0, 103.0))
    moved = places.replace_dead(store, now=103.0)
    assert sorted(room for room, _ in moved) == [1, 2, 3, 4]
    assert sorted(store.pins().values()) == ["b", "b", "c", "c"]
    assert places.replace_dead(store, now=103.0) == []  # nothing moves twice


def test_a_room_moves_only_once_when_two_watchdogs_race() -> None:
    store = store_with(WorkerInfo("b", "sfu.b", 0, 100.0))
    store.pin_if_absent(1, "dead")
    assert store.repin(1, "dead", "b") is True
    assert store.repin(1, "dead", "c") is False  # the second saw a stale pin
    assert store.pins() == {1: "b"}


def test_a_placed_room_on_a_dead_worker_is_re_placed_on_demand() -> None:
    store = store_with(WorkerInfo("a", "sfu.a", 0, 100.0), WorkerInfo("b", "sfu.b", 3, 103.0))
    store.pin_if_absent(7, "a")
    chosen = places.place(store, 7, now=103.0)
    assert chosen is not None and chosen.worker_id == "b"
    assert store.pins() == {7: "b"}


def test_enforcement_reaches_a_worker_whose_heartbeat_is_late() -> None:
    store = store_with(WorkerInfo("a", "sfu.a", 0, 100.0))
    store.pin_if_absent(1, "a")
    assert places.worker_for(store, 1, now=105.0) is None  # no new peers go there
    late = places.pinned_worker(store, 1)  # but a mute or removal still does
    assert late is not None and late.channel == "sfu.a"
    assert places.pinned_worker(store, 2) is None


def test_a_long_dead_worker_leaves_the_registry_and_learns_it_when_it_returns() -> None:
    store = store_with(WorkerInfo("a", "sfu.a", 0, 100.0), WorkerInfo("b", "sfu.b", 0, 100.0))
    store.heartbeat(WorkerInfo("b", "sfu.b", 0, 110.0))
    places.replace_dead(store, now=110.0)
    assert {w.worker_id for w in store.workers()} == {"a", "b"}  # dead, not yet forgotten
    store.heartbeat(WorkerInfo("b", "sfu.b", 0, 121.0))
    places.replace_dead(store, now=121.0)
    assert [w.worker_id for w in store.workers()] == ["b"]
    # A heartbeat says whether the entry was new: "a" coming back knows it was given up.
    assert store.heartbeat(WorkerInfo("a", "sfu.a", 0, 122.0)) is True
    assert store.heartbeat(WorkerInfo("a", "sfu.a", 0, 122.5)) is False


def test_a_draining_worker_takes_no_new_room_and_gives_its_rooms_away() -> None:
    store = store_with(
        WorkerInfo("a", "sfu.a", 0, 100.0, draining=True), WorkerInfo("b", "sfu.b", 9, 100.0)
    )
    chosen = places.place(store, 1, now=100.5)
    assert chosen is not None and chosen.worker_id == "b"  # busier, but open
    store.pin_if_absent(2, "a")
    moved = places.move_room(store, 2, "a", now=100.5)
    assert moved is not None and moved.worker_id == "b"
    assert store.pins()[2] == "b"
    assert places.move_room(store, 2, "a", now=100.5) is None  # already gone


def test_a_draining_worker_keeps_its_rooms_when_nobody_else_can_take_them() -> None:
    store = store_with(WorkerInfo("a", "sfu.a", 0, 100.0, draining=True))
    store.pin_if_absent(1, "a")
    held = places.place(store, 1, now=100.5)
    assert held is not None and held.worker_id == "a"
    assert places.place(store, 2, now=100.5) is None  # but no new room goes there
