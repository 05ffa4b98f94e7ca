"""The forwarding micro-benchmark (bench/forwarding.py) runs: a tiny run of each kind."""

import pytest

from bench import forwarding


@pytest.mark.parametrize("kind", ["video", "audio"])
def test_every_packet_reaches_every_output_and_costs_something(kind: str) -> None:
    # measure() raises unless every packet went out on every output slot.
    assert forwarding.measure(kind, outputs=3, packets=120, batch=40) > 0
