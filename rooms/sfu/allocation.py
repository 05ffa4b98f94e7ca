"""Which simulcast layer each subscriber slot gets, and what each publisher is asked for (pure).

Inputs, per subscriber: its downlink estimate (``DownlinkEstimator``), and for each of its video
slots, in priority order (``selection.video_sources_for``: screens, pins, then the last-N most
recent speakers), the layers the slot's source offers and the tile size the client reports.

Rules (``allocate``):
- A slot wants the lowest layer that covers its tile: width and height at least three
  quarters of the tile's (shown at most a third larger than it is sent, which a viewer barely
  sees), the top layer when none does. So a thumbnail gets a low layer by its size, and the
  one large tile of a call between two people the top one.
- Without a reported tile (not shown yet, or a client that reports none, like the bots) a
  slot wants the second highest layer, a *prominent* slot (a screen share, the active
  speaker) the top one.
- Layers of one size differ in frame rate (a screen share's: text does not survive
  downscaling, so both its layers keep the full resolution): a tile shown at least half that
  size (in width or height) gets the highest of them it may have, a smaller one the lowest.
  So the presenter's large tile gets a share's top layer, a strip or thumbnail its low one.
- Audio is never touched: ``audio_reserve`` comes off the estimate first.
- When the wanted layers do not fit, layers come down first (the least important slot that is
  above its lowest layer goes down by one, again and again), and only when every slot is at
  its lowest layer are whole videos dropped, least important first.
- A slot gets the highest *live* layer (one that packets arrive for) at or below what it was
  allocated, or the lowest live one; the publisher is asked for the allocated layers
  (``upstream_bitrate``), so a paused layer that becomes wanted is resumed and taken next time.

Publishers (browsers) split the bitrate the SFU grants them (REMB) over their layers from the
lowest up, and a layer that gets nothing is paused; ``upstream_bitrate`` grants what the
highest watched layer needs with everything below it, nothing for layers nobody watches.
"""

from __future__ import annotations

from collections.abc import Hashable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Generic, Literal, TypeVar

if TYPE_CHECKING:
    from .streams import Source

K = TypeVar("K", bound=Hashable)
S = TypeVar("S", bound=Hashable)

# Bits per pixel per frame at 30 fps that a layer's nominal bitrate assumes (VP8 at the rates
# browsers pick: 320x180 ~140 kbit/s, 640x360 ~550 kbit/s, 1280x720 ~2.2 Mbit/s).
NOMINAL_BITS_PER_PIXEL = 0.08
NOMINAL_FPS = 30
MIN_LAYER_BITRATE = 30_000
# Layer sizes assumed before a keyframe told the real one (lowest first, a 640x480 camera
# scaled down by 4, 2, 1). The web client sends a camera in two layers scaled by 4 and 1 (its
# capture too small for three): those are the table's first and last rows.
ASSUMED_SIZES = ((160, 120), (320, 240), (640, 480))
CAMERA_ROWS = {1: (2,), 2: (0, 2), 3: (0, 1, 2)}
# A screen share is mostly still (text, slides) and sent at a low frame rate: its encoder
# spends per pixel what a camera spends at this frame rate (a 1920x1080 share ~830 kbit/s).
# Its layers (the web client's: both at full resolution, 5 and 15 frames a second) are
# assumed to be those of a 1920x1080 screen until a keyframe tells.
SCREEN_NOMINAL_FPS = 5
SCREEN_ASSUMED_SIZES = ((1920, 1080), (1920, 1080))
# What a publisher is granted for a layer over its nominal bitrate (``layer_of``).
GRANT_FACTOR = 2


def nominal_bitrate(width: int, height: int, fps: int = NOMINAL_FPS) -> int:
    """What a layer of this size is expected to need (bit/s) before it has been measured."""
    bits = width * height * NOMINAL_BITS_PER_PIXEL * fps
    return max(MIN_LAYER_BITRATE, int(bits))


def assumed_size(
    count: int,
    layer: int,
    *,
    screen: bool = False,
    known: tuple[int, tuple[int, int]] | None = None,
) -> tuple[int, int]:
    """The size assumed for layer ``layer`` of ``count`` before its first keyframe: a
    camera's from ``CAMERA_ROWS``, a screen's the top layers of its table (a share with fewer
    layers drops the lowest ones). ``known``: another layer of the source whose size a
    keyframe told, (its index, its size): the table's ratio between the two is applied to it
    (a paused top layer of a two-layer camera is assumed 640x480 from its lowest layer's
    160x120; a 1280x720 share's, 1280x720)."""
    sizes = SCREEN_ASSUMED_SIZES if screen else ASSUMED_SIZES
    rows = None if screen else CAMERA_ROWS.get(count)

    def row(index: int) -> tuple[int, int]:
        if rows is not None:
            return sizes[rows[min(len(rows) - 1, max(0, index))]]
        return sizes[min(len(sizes) - 1, max(0, len(sizes) - count + index))]

    if known is None:
        return row(layer)
    index, (width, height) = known
    mine, theirs = row(layer), row(index)
    return width * mine[0] // theirs[0], height * mine[1] // theirs[1]


@dataclass(frozen=True, slots=True)
class Layer:
    """One layer a source offers: its size, the bitrate it needs, and whether it is live."""

    width: int
    height: int
    bitrate: int
    live: bool = True
    nominal: int = 0
    """What a layer of its size is expected to need (``nominal_bitrate``; 0: ``bitrate``)."""


@dataclass(frozen=True, slots=True)
class SlotDemand(Generic[S, K]):
    """One video slot of a subscriber, as the allocation sees it."""

    slot: S
    source: K
    layers: tuple[Layer, ...]
    """Lowest first; one entry for a source without simulcast."""
    tile: tuple[int, int] | None = None
    """The size (CSS pixels times device pixel ratio) the client shows this slot at."""
    prominent: bool = False
    """A screen share or the active speaker: may get the top layer."""


@dataclass(frozen=True, slots=True)
class SlotLayer:
    allocated: int | None
    """The layer the budget allows (None: the video is dropped)."""
    chosen: int | None
    """The layer to forward now: the highest live one at or below ``allocated``."""


def wanted_layer(demand: SlotDemand[S, K]) -> int:
    """The layer ``demand`` would get with an unlimited downlink."""
    count = len(demand.layers)
    if demand.tile is None:
        # Not shown yet, or a client that reports no sizes: a thumbnail's layer, unless the
        # slot is prominent.
        return count - 1 if demand.prominent or count == 1 else count - 2
    width, height = demand.tile
    for index, layer in enumerate(demand.layers):
        if 4 * layer.width >= 3 * width and 4 * layer.height >= 3 * height:
            if 2 * width >= layer.width or 2 * height >= layer.height:
                # Shown large: the most frames among the layers of this size.
                while index < count - 1 and _same_size(demand.layers[index + 1], layer):
                    index += 1
            return index
    return count - 1


def _same_size(a: Layer, b: Layer) -> bool:
    return (a.width, a.height) == (b.width, b.height)


def allocate(
    budget: int, demands: Sequence[SlotDemand[S, K]], *, audio_reserve: int = 0
) -> dict[S, SlotLayer]:
    """The layer of every slot in ``demands`` (most important first) within ``budget`` bit/s."""
    layers: list[int | None] = [wanted_layer(d) for d in demands]
    available = budget - audio_reserve

    def total() -> int:
        return sum(
            d.layers[i].bitrate for d, i in zip(demands, layers, strict=True) if i is not None
        )

    while total() > available:
        # Layers down first: the least important slot above its lowest layer.
        lower = next((n for n in reversed(range(len(demands))) if (layers[n] or 0) > 0), None)
        if lower is not None:
            layers[lower] = (layers[lower] or 0) - 1
            continue
        # Then fewer videos: the least important one still shown goes.
        drop = next((n for n in reversed(range(len(demands))) if layers[n] is not None), None)
        if drop is None:
            break
        layers[drop] = None
    return {
        d.slot: SlotLayer(allocated=i, chosen=_live_layer(d.layers, i))
        for d, i in zip(demands, layers, strict=True)
    }


def _live_layer(layers: Sequence[Layer], allocated: int | None) -> int | None:
    if allocated is None:
        return None
    for index in range(allocated, -1, -1):
        if layers[index].live:
            return index
    for index in range(allocated + 1, len(layers)):
        if layers[index].live:
            return index
    return allocated  # nothing live yet: wait for the allocated layer's first keyframe


def layers_in_use(
    allocations: Sequence[tuple[Sequence[SlotDemand[S, K]], Mapping[S, SlotLayer]]],
) -> dict[K, int]:
    """The highest allocated layer of each source over all subscribers (sources nobody
    watches are absent)."""
    highest: dict[K, int] = {}
    for demands, result in allocations:
        for d in demands:
            allocated = result[d.slot].allocated
            if allocated is not None and allocated > highest.get(d.source, -1):
                highest[d.source] = allocated
    return highest


# After a slot's layer went down (or its video was dropped) because the budget fell, it goes
# up again no sooner than this (seconds): an estimate that wobbles around what a layer needs
# would otherwise switch it up and down every few seconds (each switch waits for a keyframe,
# and a video brought back then dropped again is a freeze). Going down is never held, nor going
# up after a slot went down because its tile shrank or because its layer turned out to need
# more than the unchanged budget (a layer resuming at a burst, unless the budget is the
# receiver's own REMB after it fell, ``remember``): that is no wobble of the link,
# and held, the slot waited 10 s on the low layer with the estimate never growing, then was
# lowered again by the next burst (13-37 s to the top layer in the browser test).
UPGRADE_HOLD = 10.0


@dataclass(frozen=True, slots=True)
class SlotHistory(Generic[K]):
    """What a slot was last allocated, on what budget, and when the budget last lowered it."""

    source: K
    allocated: int | None
    lowered_at: float
    budget: int = 0


def held_upgrades(
    demands: Sequence[SlotDemand[S, K]],
    fits: Mapping[S, SlotLayer],
    history: Mapping[S, SlotHistory[K]],
    now: float,
    hold: float = UPGRADE_HOLD,
) -> dict[S, int | None]:
    """The slots whose upgrade in ``fits`` waits (the budget lowered them less than ``hold`` s
    ago), each with the layer it keeps (``keep``). A slot that shows another source starts
    afresh."""
    caps: dict[S, int | None] = {}
    for d in demands:
        before = history.get(d.slot)
        if before is None or before.source != d.source:
            continue
        rising = _rank(fits[d.slot].allocated) > _rank(before.allocated)
        if rising and now - before.lowered_at < hold:
            caps[d.slot] = before.allocated
    return caps


def keep(
    demands: Sequence[SlotDemand[S, K]],
    fits: Mapping[S, SlotLayer],
    held: Mapping[S, int | None],
) -> dict[S, SlotLayer]:
    """``fits`` with each held slot at the layer it keeps. What a held slot would have taken is
    left unused, not given to the others: handing it on and taking it back when the hold ends
    lowered those slots in turn (``bench.impaired --scenario slow``: frozen 10.6-12 % with
    that, against 1.2-6.1 % without)."""
    return {
        d.slot: SlotLayer(held[d.slot], _live_layer(d.layers, held[d.slot]))
        if d.slot in held
        else fits[d.slot]
        for d in demands
    }


def remember(
    demands: Sequence[SlotDemand[S, K]],
    result: Mapping[S, SlotLayer],
    history: Mapping[S, SlotHistory[K]],
    now: float,
    budget: int,
    *,
    link_limited: bool = False,
) -> dict[S, SlotHistory[K]]:
    """The slots' history after ``result`` (allocated on ``budget``): a slot that went down
    below what its tile wants while the budget fell (the link's doing, not a smaller tile's,
    nor a layer that needs more than it did) was lowered now, unless a video nobody in
    ``history`` showed arrived with it (a screen share that starts, a new speaker): a link
    that did not change is no wobble to wait out, and the slot goes up again as soon as the
    estimate has room for it. (A presenter's camera thumbnail, dropped when her share
    arrived, stayed away for the whole hold, seen in the browser test.)

    ``link_limited``: the budget is what the subscriber's own link measures (its REMB, for
    ``FOLLOW_REMB`` s after it fell). Then any lowering is the link's doing, the budget
    unchanged or not: the estimate does not grow by itself in that time, so a layer whose
    rate wobbles around it would otherwise go up and down every second, held or not as the
    REMB happened to tick."""
    shown = {h.source for h in history.values()}
    arrival = bool(history) and any(d.source not in shown for d in demands)
    after: dict[S, SlotHistory[K]] = {}
    for d in demands:
        given = result[d.slot]
        before = history.get(d.slot)
        if before is None or before.source != d.source:
            after[d.slot] = SlotHistory(d.source, given.allocated, float("-inf"), budget)
            continue
        lowered_at = before.lowered_at
        lowered = _rank(given.allocated) < _rank(before.allocated)
        fell = budget < before.budget or link_limited
        if lowered and fell and outcome(d, given) != "as_wanted" and not arrival:
            lowered_at = now
        after[d.slot] = SlotHistory(d.source, given.allocated, lowered_at, budget)
    return after


def _rank(layer: int | None) -> int:
    return -1 if layer is None else layer


def outcome(demand: SlotDemand[S, K], given: SlotLayer) -> str:
    """How a slot fared: ``"as_wanted"`` (the layer its tile wants, or better),
    ``"lower_layer"`` (the downlink allowed less) or ``"dropped"`` (no video at all)."""
    if given.allocated is None:
        return "dropped"
    return "as_wanted" if given.allocated >= wanted_layer(demand) else "lower_layer"


def committed_bitrate(
    demands: Sequence[SlotDemand[S, K]], result: Mapping[S, SlotLayer], audio_reserve: int
) -> int:
    """What ``result`` gives out: every slot's allocated layer, and the audio. A layer counts
    at least its nominal rate: one that has just resumed measures a few packets a second for a
    while (seen: 4-20 kbit/s for a 640x480 layer the publisher was starting), and the estimate
    it was allocated on must not fall to that before it flows."""
    given = (result[d.slot].allocated for d in demands)
    return audio_reserve + sum(
        max(d.layers[i].bitrate, d.layers[i].nominal)
        for d, i in zip(demands, given, strict=True)
        if i is not None
    )


def upstream_bitrate(layers: Sequence[Layer], highest: int | None, *, floor: int) -> int:
    """What a publisher is granted for one source: every layer up to the highest one watched
    (a browser fills layers from the lowest up), ``floor`` when nobody watches it."""
    if highest is None:
        return floor
    return max(floor, sum(layer.bitrate for layer in layers[: highest + 1]))


def layer_of(source: Source, *, need: bool = False) -> Layer:
    """A received stream as the allocation sees it: its size (from its keyframes, else the
    size assumed for its place), its bitrate (measured while it arrives, else what it needed
    when it last flowed, else nominal) and whether it arrives. ``need``: what to grant the
    publisher for it: twice the nominal rate (a browser starts a layer only once it can give
    it its minimum and every layer below it its target, more than the nominal figures), or a
    quarter above what it sends."""
    screen = source.key.kind == "screen"
    sized = next((layer for layer in source.layers if layer.size), None)
    known = (sized.layer, sized.size) if sized is not None and sized.size else None
    size = source.size or assumed_size(len(source.layers), source.layer, screen=screen, known=known)
    nominal = nominal_bitrate(*size, SCREEN_NOMINAL_FPS if screen else NOMINAL_FPS)
    if need:
        bitrate = max(nominal * GRANT_FACTOR, source.bitrate * 5 // 4)
    else:
        # A layer its publisher paused (nobody was given it) counts what it flowed at: at its
        # nominal rate it no longer fitted the moment it paused, and a slot that had just been
        # given it for a grown tile was lowered and then held (UPGRADE_HOLD) for want of a
        # budget that had not changed: 14-15 s to the top layer in the browser test.
        measured = source.bitrate if source.receiving else 0
        bitrate = measured or source.flowed or nominal
    return Layer(size[0], size[1], bitrate, source.receiving, nominal)


# --- the downlink estimate of one subscriber -------------------------------------------------

# Fraction of received packets lost (RTCP RR, 0..1) above which the link counts as congested
# (in two reports in a row: one report right after a stream starts can be far off) and below
# which the estimate may grow (the loss-based rules of the GCC draft, section 6).
LOSS_HIGH = 0.10
LOSS_LOW = 0.02
# While nothing says the link is full, the estimate keeps what is sent with this margin (rates
# wobble from one second to the next) ...
KEEP_MARGIN = 1.15
KEEP_STEP = 50_000
# ... and grows by this factor per feedback interval, up to PROBE_CAP times what was sent plus
# PROBE_STEP, so allocation can take the next layer (a receiver's REMB only follows what it
# receives, about 1.5x, and grows slowly).
GROWTH = 1.15
PROBE_CAP = 2
PROBE_STEP = 100_000
# After a decrease, no growth for this long (seconds).
HOLD_AFTER_DECREASE = 4.0
# A REMB this far below the previous one says the receiver saw its link overused (a browser's
# receive-side estimate only falls on overuse; after the SFU sends more it lags behind what
# is sent for a while, which is no congestion at all).
REMB_FALL = 0.95
# After a REMB fell, for this long (seconds) the estimate is that receiver's REMB: no margin
# over what is sent and no growth of its own. Its REMB has just shown that it follows its link
# (and it grows by itself, up to 1.5 times what arrives); probing past it without padding means
# taking a layer the link cannot carry, and the next fall (measured on a 500 kbit/s link: a
# video paused and resumed every few seconds).
FOLLOW_REMB = 20.0
# Without a congestion signal the estimate does not fall below what the link carried cleanly
# (no loss, no falling REMB) in the last this many seconds, with KEEP_MARGIN: a subscriber sent
# less because its tiles got smaller is application-limited, which says nothing about its link
# (the same rule as a sender's in application-limited regions). In the browser test the
# estimate fell from 812 kbit/s to 568 when a tile shrank, and when it grew again the top
# layer (about 550 kbit/s measured, plus audio) no longer fitted: 7-15 s to get it back.
CARRIED_WINDOW = 30.0
# After a queue on the link (DELAY_HIGH) showed it could not carry what was sent, the estimate
# does not grow past BACKOFF_MARGIN of that rate for BACKOFF s; a queue again within
# BACKOFF_REPEAT times that time doubles it (up to BACKOFF_MAX). There are no padding probes:
# the only probe is a better layer, and on a link that cannot carry it each probe is a freeze.
# In the browser test behind a 500 kbit/s link the top layer came back every 16 s and froze the
# video for 5-11 s each time. Only a queue starts it: after loss alone (measured with bots that
# did not answer sender reports then, whose REMB follows their link) the slow subscriber of
# `bench.impaired --scenario slow` got 137-172 kbit/s of video with it, 214-216 without.
BACKOFF = 30.0
BACKOFF_REPEAT = 2.0
BACKOFF_MAX = 240.0
BACKOFF_MARGIN = 0.9
# A round trip (the sender reports the SFU passes on, answered in the subscriber's receiver
# reports) this much longer than the shortest of the last RTT_WINDOW s, in two feedback
# intervals in a row, says a queue builds on the subscriber's link: what is sent is more than
# it carries. Loss comes only once that queue overflows (a second or more later on a link
# with a deep buffer), and a browser's REMB does not always fall first: behind a 500 kbit/s
# link in the browser test it stayed at 355-372 kbit/s for 15 s while 540 were sent, then
# the queue overflowed and the video froze for 9 s. The estimate then drops to DELAY_DECREASE
# of what was sent, as at loss.
DELAY_HIGH = 0.2
RTT_WINDOW = 60.0
DELAY_DECREASE = 0.85
# A REMB that falls while the last round trip shows no queue (at most this much over the
# shortest) and nothing is lost is not yet taken for congestion (see UNCONFIRMED below).
# Chromium's receive-side estimate can sit far below what its link carries (78-110 kbit/s
# behind a 500 kbit/s link that carried 500 without a queue, in the browser test) and its
# falls then dropped the video for the 20 s of FOLLOW_REMB. Without round trips (a client
# that does not answer sender reports) a REMB that falls is congestion as before.
DELAY_CALM = 0.05
# A round trip older than this (s) says nothing of the link now: a subscriber that stopped
# answering sender reports is judged by its REMB and its loss again. (One that receives audio
# only gets a report every 2.5-7.5 s from Chromium, RTCP's randomized 5 s for audio.)
RTT_FRESH = 15.0
# For this long (s) after a queue on the link was answered (the estimate cut, ``BACKOFF``
# started), while it drains (what is sent is at most DRAIN_SENT of the rate it formed at,
# under LOSS_LOW lost, and the last round trip DELAY_CALM shorter than the longest since), a
# REMB that falls is that queue's echo, not a link that got worse: it is not followed (a REMB
# followed since an earlier fall, no lower than what is given out: ``DownlinkEstimator._echo``).
# Chromium's receive-side estimate keeps falling while the queue drains, to 0.85 of what it
# receives, which is what the SFU cut to. In the browser test behind a 500 kbit/s link it fell
# to 58-84 kbit/s 3.6-4.6 s after the queue was answered, while the low layer (~130 kbit/s
# with audio) flowed; a round trip answering a report sent during the queue still showed it,
# and following the REMB dropped the last video for 20-22 s (4 runs of about 19). A link that
# really drops further is followed as before: its queue grows, and so does the round trip.
DRAIN_WINDOW = 6.0
DRAIN_SENT = 0.5
# UNCONFIRMED: a REMB that falls while the last round trip shows no queue is followed at
# once, but no lower than ``least`` (the first video's lowest layer and the audio) until a
# round trip answering a sender report sent after the fall says which it was: a queue (over
# DELAY_CALM) confirms it and the REMB is followed all the way; none undoes it
# (``DownlinkEstimator._undo``). The last round trip at a fall answers a report sent before
# it: when a link drops, the queue shows only in the reports sent after. Ignoring such falls
# (as before) let a subscriber whose link dropped from 2 Mbit/s to 300 kbit/s be sent
# 1 Mbit/s for 3 s (`bench.impaired --scenario drop` with bots that answer sender reports, as
# browsers do: estimate followed in 2.0-6.3 s, video frozen 2.7-4.8 s, 6-13 audio packets
# lost; with this rule, nine runs: 0.4-0.7 s, 0-0.51 s and 1.1 s in one, none). A Chromium
# REMB that falls far below a link with no queue on it (58-110 kbit/s behind 500) keeps the
# low layer, and the estimate comes back when the round trip shows no queue.


@dataclass(slots=True)
class _Unconfirmed:
    """A REMB fall followed while the round trip showed no queue (``DownlinkEstimator``):
    when, and what the estimate was before it."""

    at: float
    value: int
    last_decrease: float
    last_remb_fall: float
    carried: list[tuple[float, int]]
    verdict: Literal["calm", "queue"] | None = None
    """What the first round trip of a report sent after the fall showed."""


def _fallen(remb: int | None, previous: int | None) -> int | None:
    """``remb`` when it fell below ``REMB_FALL`` of ``previous``, else None."""
    if remb is None or previous is None or remb >= REMB_FALL * previous:
        return None
    return remb


@dataclass(slots=True)
class DownlinkEstimator:
    """A subscriber's downlink estimate from its own feedback: the browser's receive-side
    estimate (REMB, sent when goog-remb is negotiated), its receiver reports' loss, and what
    the SFU sent it (additive-increase / multiplicative-decrease on those signals).

    - Congestion: the REMB fell below ``REMB_FALL`` of the one before (while the last round
      trip shows no queue and nothing is lost, ``DELAY_CALM``, only as far as ``least``
      until a round trip after the fall confirms or undoes it), loss above ``LOSS_HIGH`` in two
      reports in a row, or a round trip ``DELAY_HIGH`` over the shortest in two intervals in
      a row (a queue). The estimate drops to the REMB that fell, to what was sent less half
      the loss, and to ``DELAY_DECREASE`` of what was sent at a queue, whichever is lowest;
      no growth for ``HOLD_AFTER_DECREASE`` s. After a queue, none past ``BACKOFF_MARGIN`` of
      what was sent for ``BACKOFF`` s (``backoff_cap``).
    - A REMB that fell below the estimate takes effect as soon as it arrives (``react``, each
      room tick), not at the next interval: the queue at the receiver's bottleneck grows by the
      excess every moment the SFU keeps sending it, and overflows (audio too) within a second.
    - For ``FOLLOW_REMB`` s after a REMB fell: the REMB, as it rises or falls.
    - While a queue it answered drains (``DRAIN_WINDOW``), a REMB that falls is that queue's
      echo: it starts no following, a following in progress goes no lower than what was given
      out then (``echo_floor``), and what was carried cleanly is forgotten, as at congestion.
    - Otherwise: at least the REMB and what was sent (with ``KEEP_MARGIN``), and, with low loss
      and no decrease in the hold time, ``GROWTH`` times the previous estimate, capped at
      ``PROBE_CAP`` times what was sent plus a step, or at what the last allocation gave out
      (``committed``) if that is more.
      While ``starved`` (a video below what its tile wants), the cap does not apply (but
      within ``FOLLOW_REMB`` of a REMB fall the REMB rules: the receiver's own estimate rises
      with what arrives, and growing past it is what brought the fall).
    - Without a congestion signal it does not fall below what the last allocation gave out
      (``committed``), as long as it was at least that: a layer the estimate has just grown to
      takes a few seconds to flow (the publisher resumes it once granted it, and the switch
      waits for its keyframe), and in the meantime nothing was sent to show for it.
    - Without a congestion signal it does not fall below what the link carried cleanly in the
      last ``CARRIED_WINDOW`` s either (with ``KEEP_MARGIN``, and no higher than it was): a
      subscriber sent less because its tiles shrank is application-limited, not congested.
    - Within the hold time the estimate does not rise at all (the margin over what is sent
      would take back what the decrease gave up).
    - A client that sends no REMB keeps ``initial`` unless it reports loss.
    - Always within [floor, ceiling].
    """

    initial: int
    floor: int
    ceiling: int
    remb: int | None = None
    previous_remb: int | None = None
    loss: float = 0.0
    previous_loss: float = 0.0
    value: int = 0
    last_decrease: float = float("-inf")
    last_remb_fall: float = float("-inf")
    starved: bool = False
    """The last allocation gave a video less than its tile wants: a lower layer, or none (set
    by the room). Then, with a clean link, growth is not capped by what was sent: a
    receiver's REMB only rises with what it receives, so a subscriber sent too little to earn
    the better layer would never get it (seen: a screen share's low layer dropped at
    178 kbit/s, and nothing ever came back)."""

    committed: int = 0
    """What the layers the last allocation fitted need, upgrades that wait out their hold
    included (the hold delays them; it says nothing about the link), and the audio reserve
    (set by the room, ``committed_bitrate``). Without it, growth that earned a layer was
    taken back the next second, once that layer no longer counted as starved but had not
    flowed yet (the cap on what was sent): in the browser test on a busy machine the estimate
    climbed to a paused top layer's nominal rate, fell to twice what was sent, climbed again,
    every five seconds for 30 s, and the publisher was never granted the layer long enough to
    resume it."""

    carried: list[tuple[float, int]] = field(default_factory=list)
    """(when, bit/s) of the feedback intervals of the last ``CARRIED_WINDOW`` s in which what
    was sent arrived cleanly; emptied by congestion."""

    rtt: float | None = None
    """The longest round trip measured since the last ``update`` (s)."""
    last_rtt: float | None = None
    last_rtt_at: float = float("-inf")
    previous_delayed: bool = False
    queue_drained: bool = True
    """A round trip within ``DELAY_CALM`` of the shortest came since the last queue."""
    rtts: list[tuple[float, float]] = field(default_factory=list)
    """(when, round trip) of the shortest round trip of each feedback interval of the last
    ``RTT_WINDOW`` s."""

    last_sent: int = 0
    """What was sent in the last feedback interval (bit/s)."""
    echo_floor: int = 0
    """The least a REMB being followed may take the estimate to, after a queue's echo
    (``_echo``); 0 from each REMB fall that is followed, and at loss or a queue."""
    least: int = 0
    """What the least allocation with video needs: the most important video's lowest layer
    and the audio (set by the room); how low an unconfirmed REMB fall goes."""
    unconfirmed: _Unconfirmed | None = None
    """A REMB fall followed while the round trip showed no queue, until a round trip after
    it says which it was (``_undo``)."""
    congested_rate: int = 0
    """What was sent when a queue last showed congestion (bit/s)."""
    congested_at: float = float("-inf")
    backoff: float = 0.0
    """For this long after ``congested_at`` the estimate does not grow past
    ``BACKOFF_MARGIN`` of ``congested_rate`` (0: no congestion yet)."""

    def __post_init__(self) -> None:
        self.value = self.initial

    def _carried(self, sent: int, clean: bool, now: float) -> int:
        """Note this interval's ``sent`` if it arrived cleanly; the most the link carried
        cleanly within ``CARRIED_WINDOW`` s (0: nothing since the last congestion)."""
        kept = [(at, rate) for at, rate in self.carried if now - at < CARRIED_WINDOW]
        if not clean:
            kept = []
        elif sent > 0:
            kept.append((now, sent))
        self.carried = kept
        return max((rate for _, rate in kept), default=0)

    def _congested(self, sent: int, now: float) -> None:
        """A queue showed congestion while ``sent`` bit/s went out: no growth past
        ``BACKOFF_MARGIN`` of it for ``backoff`` s. A queue in the next reports, while the
        decrease takes effect, is the same one, not another."""
        if now - self.congested_at <= HOLD_AFTER_DECREASE or sent <= 0:
            return
        elapsed = now - self.congested_at
        again = self.backoff and self.backoff <= elapsed < BACKOFF_REPEAT * self.backoff
        self.backoff = min(BACKOFF_MAX, 2 * self.backoff) if again else BACKOFF
        self.congested_at = now
        self.congested_rate = sent

    def backoff_cap(self, now: float) -> int | None:
        """The most the estimate may grow to after the last congestion (None: no limit)."""
        if now - self.congested_at >= self.backoff:
            return None
        return int(self.congested_rate * BACKOFF_MARGIN)

    def _draining(self, now: float) -> bool:
        """The queue answered within ``DRAIN_WINDOW`` s drains: what is sent is at most
        ``DRAIN_SENT`` of what it formed at, under ``LOSS_LOW`` is lost, and the last round
        trip is shorter than the longest since by ``DELAY_CALM`` (on a link that dropped
        further the queue grows)."""
        last = self.last_rtt
        if now - self.congested_at >= DRAIN_WINDOW or self.loss >= LOSS_LOW or last is None:
            return False
        if self.last_sent > DRAIN_SENT * self.congested_rate:
            return False
        since = [value for at, value in self.rtts if at >= self.congested_at - 1.0]
        return bool(since) and last < max(since) - DELAY_CALM

    def _echo(self) -> None:
        """A REMB fell while the queue drains (``DRAIN_WINDOW``): a REMB followed since an
        earlier fall is followed no lower than what is given out now, for as long as it is
        followed (the link's word stands, the echo's does not)."""
        self.echo_floor = max(self.echo_floor, min(self.value, self.committed))

    def _follow_unconfirmed(self, now: float) -> int:
        """A REMB fell while the last round trip showed no queue (``_calm``): the least the
        estimate goes to until a round trip after the fall says which it was."""
        if self.unconfirmed is None:
            self.unconfirmed = _Unconfirmed(
                at=now,
                value=self.value,
                last_decrease=self.last_decrease,
                last_remb_fall=self.last_remb_fall,
                carried=list(self.carried),
            )
        return self._unconfirmed_floor()

    def _unconfirmed_floor(self) -> int:
        """How low an unconfirmed fall takes the estimate (0: none waits)."""
        fall = self.unconfirmed
        return 0 if fall is None else min(fall.value, self.least)

    def _undo(self, now: float) -> bool:
        """Settle an unconfirmed fall once a round trip answering a report sent after it came
        (``on_rtt``): without a queue, the estimate is what it was before the fall, as if it
        had not come; with one, the REMB is followed all the way. True when the estimate
        changed."""
        fall = self.unconfirmed
        if fall is None or fall.verdict is None:
            if fall is not None and now - fall.at >= FOLLOW_REMB:
                self.unconfirmed = None  # followed to its end; nothing to settle
            return False
        self.unconfirmed = None
        self.previous_remb = self.remb  # the fall is settled: not a fall again
        if fall.verdict == "queue":
            self.echo_floor = 0
            remb = self.remb if self.remb is not None else self.value
            estimate = max(self.floor, min(self.ceiling, remb, self.value))
            changed, self.value = estimate != self.value, estimate
            return changed
        self.last_decrease = fall.last_decrease
        self.last_remb_fall = fall.last_remb_fall
        self.carried = fall.carried
        changed, self.value = fall.value != self.value, max(self.value, fall.value)
        return changed

    def following_remb(self, now: float) -> bool:
        """The estimate is the receiver's REMB (``FOLLOW_REMB`` s after it fell)."""
        return now - self.last_remb_fall < FOLLOW_REMB

    def on_remb(self, bitrate: int) -> None:
        self.remb = max(0, bitrate)

    def react(self, now: float) -> bool:
        """Apply a REMB that fell (below ``REMB_FALL`` of the one the last ``update`` saw) and
        is below the estimate, before the next ``update``; True when the estimate dropped."""
        if self._undo(now):
            return True
        remb = _fallen(self.remb, self.previous_remb)
        if remb is None:
            return False
        if self._draining(now):
            self._echo()
            return False
        least = 0
        if self._calm(now):
            least = self._follow_unconfirmed(now)
        else:
            self.unconfirmed = None
        estimate = max(self.floor, min(self.ceiling, max(remb, least)))
        if estimate >= self.value:
            return False
        self.value = estimate
        self.last_decrease = self.last_remb_fall = now
        if self.unconfirmed is None:
            self.echo_floor = 0  # the link's word; an unconfirmed fall's is not yet
        self.carried = []
        return True

    def on_rtt(self, rtt: float, now: float, sent_at: float | None = None) -> None:
        """A round trip measured on one of the streams this subscriber receives (s), of a
        sender report sent at ``sent_at`` (None: not known)."""
        self.rtt = rtt if self.rtt is None else max(self.rtt, rtt)
        self.last_rtt = rtt
        self.last_rtt_at = now
        rtts = self.rtts
        if rtts and now - rtts[-1][0] < 0.5:  # the same interval: keep its shortest
            if rtt < rtts[-1][1]:
                rtts[-1] = (rtts[-1][0], rtt)
        else:
            rtts.append((now, rtt))
        calm = rtt - min(value for _, value in rtts) <= DELAY_CALM
        if calm:
            self.queue_drained = True
        fall = self.unconfirmed
        if fall is not None and fall.verdict is None and sent_at is not None and sent_at >= fall.at:
            fall.verdict = "calm" if calm and self.loss < LOSS_LOW else "queue"

    def _delayed(self, now: float) -> bool:
        """A queue builds on the link (``DELAY_HIGH``): in the last two intervals with a
        round trip (a browser's reports come every 0.5-1.5 s: an interval may have none), not
        within ``HOLD_AFTER_DECREASE`` of a decrease, and only once the queue of the last one
        was seen drained. (Taken again while it drained, the estimate fell from 1.1 Mbit/s
        to 440 and then to 190; taken again every interval of a queue that outlasted the
        hold, it fell below the lowest layer and the backoff doubled to minutes.)"""
        rtt, self.rtt = self.rtt, None
        self.rtts = [(at, value) for at, value in self.rtts if now - at < RTT_WINDOW]
        if rtt is None or not self.rtts:
            return False
        delayed = rtt - min(value for _, value in self.rtts) > DELAY_HIGH
        before, self.previous_delayed = self.previous_delayed, delayed
        if not (delayed and before and self.queue_drained):
            return False
        if now - self.last_decrease < HOLD_AFTER_DECREASE:
            return False
        self.queue_drained = False
        return True

    def _calm(self, now: float) -> bool:
        """The last round trip shows no queue on the link and nothing was lost
        (``DELAY_CALM``); False without a round trip in the last ``RTT_FRESH`` s (which
        ``rtts`` still holds: it keeps ``RTT_WINDOW`` s)."""
        if self.last_rtt is None or now - self.last_rtt_at > RTT_FRESH or self.loss >= LOSS_LOW:
            return False
        return self.last_rtt - min(value for _, value in self.rtts) <= DELAY_CALM

    def on_loss(self, fraction_lost: int) -> None:
        """RTCP ``fraction lost`` (0..255) of a stream this subscriber receives."""
        self.loss = max(0, min(255, fraction_lost)) / 256

    def update(self, sent: int, now: float) -> int:
        """The estimate after one feedback interval in which ``sent`` bit/s went out."""
        self._undo(now)
        remb, previous = self.remb, self.previous_remb
        self.previous_remb = remb
        loss = self.loss
        lost = loss > LOSS_HIGH and self.previous_loss > LOSS_HIGH
        self.previous_loss = loss
        # A queue on the link counts as loss does (it is the loss to come).
        delayed = self._delayed(now)
        lossy = lost or delayed
        self.last_sent = sent
        fell = _fallen(remb, previous) is not None
        echo = fell and self._draining(now)
        if echo:
            self._echo()
        falling = fell and not echo
        calm = falling and self._calm(now)
        clean = not (lossy or falling or echo) and loss < LOSS_LOW
        carried = self._carried(sent, clean, now)
        if lossy or falling:
            candidates = []
            if lossy:
                self.echo_floor = 0  # the link's word
                self.unconfirmed = None
                factor = min(1 - loss / 2 if lost else 1, DELAY_DECREASE if delayed else 1)
                candidates.append(int(sent * factor))
            if falling and remb is not None:
                least = self._follow_unconfirmed(now) if calm and not lossy else 0
                if not calm:
                    self.unconfirmed = None
                candidates.append(max(remb, least))
                self.last_remb_fall = now
                if not calm:
                    self.echo_floor = 0
            estimate = min(candidates)
            if estimate < self.value:
                self.last_decrease = now
            if delayed:
                self._congested(sent, now)
        elif remb is None:
            estimate = max(self.value, int(sent * KEEP_MARGIN) + KEEP_STEP)
        elif self.following_remb(now):
            estimate = max(remb, self.echo_floor, self._unconfirmed_floor())
        else:
            estimate = max(remb, int(sent * KEEP_MARGIN) + KEEP_STEP)
            if loss < LOSS_LOW and now - self.last_decrease >= HOLD_AFTER_DECREASE:
                # Up to what the allocation gave out, too: a layer given on its measured rate
                # whose bursts (a layer resuming) pass the estimate is lowered, then given
                # again, each time it bursts, unless the estimate makes room for it.
                cap = max(sent * PROBE_CAP + PROBE_STEP, self.committed)
                grown = int(self.value * GROWTH)
                if not self.starved:
                    grown = min(grown, cap)
                estimate = max(estimate, grown)
            estimate = max(estimate, min(self.value, self.committed))
            if carried:
                estimate = max(estimate, min(self.value, int(carried * KEEP_MARGIN) + KEEP_STEP))
        if not (lossy or falling) and now - self.last_decrease < HOLD_AFTER_DECREASE:
            estimate = min(estimate, self.value)
        backoff = self.backoff_cap(now)
        if backoff is not None and not (lossy or falling):
            # Growth only: what the estimate already is stays. (A REMB above it too: what the
            # link lost or queued outweighs what the receiver guesses.)
            estimate = min(estimate, max(backoff, self.value))
        self.value = max(self.floor, min(self.ceiling, estimate))
        return self.value
