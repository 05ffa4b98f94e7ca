from rooms.sfu.speakers import SpeakerConfig, SpeakerSelector

CFG = SpeakerConfig(max_speakers=3, threshold=10, margin=6, min_hold=1.0, release_after=1.5)


def feed(sel: SpeakerSelector[str], levels: dict[str, int], start: float, seconds: float) -> float:
    t = start
    while t < start + seconds:
        for key, level in levels.items():
            sel.observe(key, level, t)
        t += 0.02
    return t


def test_the_three_loudest_are_selected_and_silence_is_not() -> None:
    sel: SpeakerSelector[str] = SpeakerSelector(CFG)
    t = feed(sel, {"a": 20, "b": 30, "c": 40, "d": 50, "e": 127}, 0.0, 0.5)
    result = sel.update(t)
    assert set(result.speakers) == {"a", "b", "c"}
    assert result.dominant == "a"


def test_silent_participants_are_never_selected() -> None:
    sel: SpeakerSelector[str] = SpeakerSelector(CFG)
    t = feed(sel, {"a": 127, "b": 127}, 0.0, 0.5)
    assert sel.update(t).speakers == ()


def test_a_slightly_louder_newcomer_does_not_displace_a_speaker() -> None:
    sel: SpeakerSelector[str] = SpeakerSelector(SpeakerConfig(max_speakers=1, margin=6))
    t = feed(sel, {"a": 40}, 0.0, 2.0)
    assert sel.update(t).speakers == ("a",)
    t = feed(sel, {"a": 40, "b": 37}, t, 2.0)  # 3 dB louder: inside the margin
    assert sel.update(t).speakers == ("a",)
    t = feed(sel, {"a": 40, "b": 20}, t, 0.5)  # 20 dB louder: outside it
    assert sel.update(t).speakers == ("b",)


def test_no_switch_before_the_hold_time() -> None:
    sel: SpeakerSelector[str] = SpeakerSelector(SpeakerConfig(max_speakers=1, min_hold=1.0))
    t = feed(sel, {"a": 60}, 0.0, 0.3)
    assert sel.update(t).speakers == ("a",)
    t = feed(sel, {"a": 60, "b": 10}, t, 0.3)
    assert sel.update(t).speakers == ("a",)  # a selected only 0.3 s ago
    t = feed(sel, {"a": 60, "b": 10}, t, 1.0)
    assert sel.update(t).speakers == ("b",)


def test_a_speaker_is_released_after_silence_not_at_once() -> None:
    sel: SpeakerSelector[str] = SpeakerSelector(CFG)
    t = feed(sel, {"a": 20}, 0.0, 1.0)
    assert sel.update(t).speakers == ("a",)
    t = feed(sel, {"a": 127}, t, 0.5)
    assert sel.update(t).speakers == ("a",)  # a short pause keeps the place
    t = feed(sel, {"a": 127}, t, 1.5)
    assert sel.update(t).speakers == ()


def test_remove_takes_effect_immediately() -> None:
    sel: SpeakerSelector[str] = SpeakerSelector(CFG)
    t = feed(sel, {"a": 20, "b": 30}, 0.0, 1.0)
    assert set(sel.update(t).speakers) == {"a", "b"}
    sel.remove("a")
    result = sel.update(t)
    assert result.speakers == ("b",) and result.dominant == "b"


def test_the_next_loudest_is_the_reserve_with_the_same_margin() -> None:
    sel: SpeakerSelector[str] = SpeakerSelector(CFG)
    t = feed(sel, {"a": 20, "b": 30, "c": 40, "d": 50, "e": 60, "f": 127}, 0.0, 0.5)
    result = sel.update(t)
    assert set(result.speakers) == {"a", "b", "c"} and result.reserve == "d"
    t = feed(sel, {"a": 20, "b": 30, "c": 40, "d": 50, "e": 47, "f": 127}, t, 0.5)
    assert sel.update(t).reserve == "d"  # 3 dB louder: inside the margin
    t = feed(sel, {"a": 20, "b": 30, "c": 40, "d": 127, "e": 47, "f": 127}, t, 2.0)
    assert sel.update(t).reserve == "e"  # d fell silent and was released


def test_no_reserve_when_nobody_else_speaks() -> None:
    sel: SpeakerSelector[str] = SpeakerSelector(CFG)
    t = feed(sel, {"a": 20, "b": 30, "c": 127}, 0.0, 0.5)
    assert sel.update(t).reserve is None
