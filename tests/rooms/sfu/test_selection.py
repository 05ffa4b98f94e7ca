from rooms.sfu.selection import Recency, SourceKey, assign_slots, video_sources_for


def cam(p: str) -> SourceKey:
    return SourceKey(p, "camera")


def test_recency_puts_speakers_first_and_newcomers_last() -> None:
    r: Recency[str] = Recency()
    for p in "abcd":
        r.add(p)
    assert r.touch("c")
    assert not r.touch("c")
    r.remove("a")
    assert r.ordered() == ("c", "b", "d")


def test_last_n_excludes_self_and_non_publishers() -> None:
    wanted = video_sources_for(
        "a",
        recency=["a", "b", "c", "d", "e"],
        cameras={"a", "b", "d", "e"},
        screens=set(),
        pinned=[],
        last_n=2,
    )
    assert wanted == [cam("b"), cam("d")]


def test_screens_and_pins_come_first_and_pins_are_on_top_of_n() -> None:
    wanted = video_sources_for(
        "a",
        recency=["b", "c", "d"],
        cameras={"b", "c", "d"},
        screens={"c", "a"},
        pinned=["d", "zz"],
        last_n=1,
    )
    assert wanted == [SourceKey("c", "screen"), cam("d"), cam("b")]


def test_assignment_keeps_sources_in_their_slots() -> None:
    current = {"s1": cam("a"), "s2": cam("b"), "s3": None}
    result = assign_slots(current, [cam("c"), cam("b"), cam("a")])
    assert result == {"s1": cam("a"), "s2": cam("b"), "s3": cam("c")}


def test_assignment_replaces_only_what_left() -> None:
    current = {"s1": cam("a"), "s2": cam("b")}
    result = assign_slots(current, [cam("b"), cam("c")])
    assert result == {"s1": cam("c"), "s2": cam("b")}


def test_what_does_not_fit_is_the_lowest_priority() -> None:
    current = {"s1": cam("z"), "s2": None}
    result = assign_slots(current, [cam("a"), cam("b"), cam("z")])
    assert result == {"s1": cam("a"), "s2": cam("b")}
