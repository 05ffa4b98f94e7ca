"""The media benchmark's report: a row the load generator could not keep up with gets no ratio."""

from bench.media import markdown, merge


def row(system: str, people: int, pkts_per_cpu: int, bot_drops: int) -> dict[str, object]:
    return {
        "system": system,
        "participants": people,
        "sfu_pkts_per_cpu_s": pkts_per_cpu,
        "bots_udp_drops": bot_drops,
        "generator_bound": bool(bot_drops),
    }


def test_the_ratio_is_left_out_where_either_side_was_generator_bound() -> None:
    ours = [row("rooms", 35, 34_000, 0), row("rooms", 50, 35_000, 0), row("rooms", 60, 30_000, 9)]
    janus = [row("janus", 35, 26_000, 0), row("janus", 50, 4_300, 400_000), row("janus", 60, 1, 0)]
    merged = {r["participants"]: r for r in merge(ours, janus)}
    assert merged[35]["pkts_per_cpu_ratio"] == 1.31
    assert merged[50]["pkts_per_cpu_ratio"] is None
    assert merged[60]["pkts_per_cpu_ratio"] is None
    assert merged[50]["janus_generator_bound"] is True


def test_the_table_shows_no_ratio_for_a_generator_bound_row() -> None:
    rows = merge([row("rooms", 50, 35_000, 0)], [row("janus", 50, 4_300, 400_000)])
    setup = {
        "duration_s": 20,
        "settle_s": 4,
        "cpus": 2,
        "bot_processes": 2,
        "sent_kbps_per_bot": 680,
    }
    line = next(x for x in markdown(rows, setup).splitlines() if x.startswith("| 50"))
    assert line.split("|")[2:5] == [" 35000 ", " 4300 ", " - "]
