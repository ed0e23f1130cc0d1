"""Rate control: a quality index per GOP so that the stream lands on a target bit rate.

One pass with bounded re-encodes. A rate model predicts each frame's bits from its class (frame
type and temporal layer) and its own quality index q_f (the GOP's q lowered per layer,
gop.layer_quality): log(bits) = a_class + b * q_f. The first intra frame, coded at two
qualities (cheap: one intra frame), gives the intra intercept and the slope; it is then coded
with the GOP after it, as one unit (alone, its q would rest on the priors only). P and B
intercepts start at fixed ratios to the intra one; every coded GOP replaces the intercepts of
its classes by what it measured.
Each GOP gets the one q that, were every remaining frame coded at it, spends the remaining
budget. Once coded, the GOP's own classes are re-measured (before the first GOP, P and B costs
are priors only), and if it then projects a total off the target by more than half the tolerance
(the last GOP: its real total, by more than 0.8 of it), it is coded again, from the same decoded
pictures, up to `max_retries` times (the last GOP, which nothing after can make up for, once
more): at the q the model corrects to, or, once attempts lie on both sides of the target,
between the nearest two (log-bits are convex in q, which one slope misses). The best attempt is
kept: the stream holds only what the decoder will reproduce.
"""

import math
from collections.abc import Callable
from dataclasses import dataclass, field

from lvcodec.bitstream import FrameType
from lvcodec.bitstream.syntax import MAX_QUALITY
from lvcodec.codec.gop import layer_quality, next_anchor, plan_gop

__all__ = ["RateController", "GopRecord", "INIT_QUALITIES"]

INIT_QUALITIES = (16, 48)  # the first intra frame is coded at these to fit the intra model
# Bits of a P frame / of a B frame (any layer, at its own q) against an intra frame at equal q:
# the lvc-base model's ratios on the test clips (benchmarks/downsampling.md, GOP 16), only a
# start that the first coded GOP replaces.
PRIOR_RATIO = {FrameType.P: 0.7, FrameType.B: 0.5}
# Container bytes per frame beyond its substreams (unit sync/type/size/CRC, frame header, index
# entry; 20-30 measured) and per stream (magic, sequence header, index unit, footer).
FRAME_OVERHEAD_BYTES = 26
STREAM_OVERHEAD_BYTES = 120
SLOPE_RANGE = (0.002, 0.08)  # per q step; log-bits over the q range of lvc-base: 0.005..0.03
HORIZON_FRAMES = 32  # frames ahead the budget is spread over when the input's length is unknown


@dataclass
class GopRecord:
    """One coded GOP: its first frame in display order, frames, the q kept, q of every attempt."""

    first: int
    frames: int
    quality: int
    bits: int
    attempts: list = field(default_factory=list)


def _frame_bits(coded) -> int:
    return 8 * (sum(len(s) for s in coded.substreams) + FRAME_OVERHEAD_BYTES)


def _key(frame_type: FrameType, layer: int):
    return frame_type if frame_type != FrameType.B else (frame_type, layer)


class RateController:
    """Chooses each GOP's q (Encoder._code_gop hands it the GOP's plan and a way to code it).

    Args:
        bitrate: target in bits per second.
        fps: frames per second of the input.
        frames: the input's length, None if unknown (the budget is then spread over a horizon).
        gop, intra_period: the encoder's (intra_period as in the sequence header: 0 = first only).
        tolerance: the stream's allowed relative miss of the target.
        max_retries: re-encodes per GOP at most.
    """

    def __init__(self, bitrate: float, fps: float, frames: int | None, gop: int,
                 intra_period: int, tolerance: float = 0.05, max_retries: int = 2):
        self.bits_per_frame = bitrate / fps
        self.frames, self.gop, self.intra_period = frames, gop, intra_period
        self.tolerance, self.max_retries = tolerance, max_retries
        self.spent = 8 * STREAM_OVERHEAD_BYTES
        self.done = 0  # frames coded
        self.slope = None
        self.intercept = {}  # class -> a
        self.records: list[GopRecord] = []
        self.trials = 0  # GOP encodes beyond one per GOP (the intra fit's excluded)

    # -- the model ----------------------------------------------------------------------------

    def _predict(self, layers, q: int) -> float:
        """Predicted bits of frames [(type, layer)] coded in a GOP of quality q."""
        total = 0.0
        for t, layer in layers:
            a = self.intercept.get(_key(t, layer))
            if a is None:  # a class not seen yet: the prior ratio to the intra frame
                a = self.intercept[FrameType.I] + math.log(PRIOR_RATIO[t])
            total += math.exp(a + self.slope * layer_quality(q, layer))
        return total

    def _observe(self, coded: list) -> None:
        """Intercepts of the classes in `coded` (one GOP at one q) from their measured bits."""
        sums = {}
        for c in coded:
            h = c.header
            k = _key(h.frame_type, h.temporal_layer)
            a = math.log(max(_frame_bits(c), 8)) - self.slope * h.quality
            sums.setdefault(k, []).append(a)
        for k, v in sums.items():
            self.intercept[k] = math.log(sum(math.exp(x) for x in v) / len(v))

    def _fit_slope(self, a: list, b: list) -> None:
        """The slope from one GOP coded at two qualities (a, b: its CodedFrames per attempt)."""
        qa, qb = a[0].header.quality, b[0].header.quality
        if qa == qb:
            return
        ratio = sum(map(_frame_bits, a)) / sum(map(_frame_bits, b))
        # The layers' q move by as much as the GOP's, except where clamped at 0: use the anchor's.
        s = math.log(ratio) / (qa - qb)
        s = min(max(s, SLOPE_RANGE[0]), SLOPE_RANGE[1])
        self.slope = s if self.slope is None else 0.5 * (self.slope + s)

    # -- the plan -----------------------------------------------------------------------------

    def _future(self, after: int) -> list:
        """(type, layer) of the frames after display index `after` to the end (or the horizon)."""
        end = (self.frames - 1) if self.frames else after + HORIZON_FRAMES
        out, anchor = [], after
        while anchor < end:
            nxt = min(next_anchor(anchor, self.gop, self.intra_period), end)
            out += [(p.frame_type, p.temporal_layer) for p in plan_gop(anchor, nxt, self.intra_period)]
            anchor = nxt
        return out

    def _target_total(self, frames: int) -> float:
        return self.bits_per_frame * frames + 8 * STREAM_OVERHEAD_BYTES

    def _choose(self, layers, future) -> int:
        """The q whose bits for this GOP and every later frame fit the remaining budget best."""
        budget = self._target_total(self.done + len(layers) + len(future)) - self.spent
        return min(range(MAX_QUALITY + 1),
                   key=lambda q: abs(self._predict(layers, q) + self._predict(future, q) - budget))

    def _miss(self, bits: float, future, q: int) -> float:
        """Relative miss of the stream's total if this GOP spends `bits` and the rest codes at q."""
        n = self.done + self._gop_frames + len(future)
        target = self._target_total(n)
        return (self.spent + bits + self._predict(future, q) - target) / target

    # -- one GOP ------------------------------------------------------------------------------

    def code_gop(self, plans: list, attempt: Callable[[int], tuple],
                 probe: Callable[[int], list]) -> tuple:
        """Codes one GOP (its PlannedFrames, coding order) through `attempt(q) -> (CodedFrames,
        state)`, which starts from the same decoded pictures each time; returns the kept
        attempt's (CodedFrames, state). probe(q): the GOP's first frame alone, coded at q and
        discarded (the first GOP starts with the stream's intra frame: it fits the model)."""
        layers = [(p.frame_type, p.temporal_layer) for p in plans]
        last = max(p.display_index for p in plans)
        future = self._future(last)
        self._gop_frames = len(plans)
        tried = {}  # q -> (coded, state)
        if self.slope is None:  # the first GOP: fit the intra model on its intra frame
            lo, hi = (probe(k) for k in INIT_QUALITIES)
            self._fit_slope(hi, lo)
            self._observe(hi)
        final = not future
        limit = self.tolerance * (0.8 if final else 0.5)
        # Nothing after the last GOP can make up its miss: it may be coded once more.
        retries = self.max_retries + int(final)
        q = self._choose(layers, future)
        misses = {}
        for n in range(retries + 1):
            if q not in tried:
                tried[q] = attempt(q)
                if n > 0:
                    self.trials += 1
            coded = tried[q][0]
            bits = sum(map(_frame_bits, coded))
            # The future is predicted from what this GOP's classes really cost at q: before the
            # first GOP is coded, the P and B frames' costs are priors only.
            self._observe(coded)
            misses[q] = self._miss(bits, future, q)
            if abs(misses[q]) <= limit:
                break
            nxt = _between(misses)
            if nxt is None:
                # What this GOP really costs at q, and the local slope if it was coded at
                # another q too (the nearest: log-bits are convex in q).
                other = min((k for k in tried if k != q), key=lambda k: abs(k - q), default=None)
                if other is not None and len(coded) > 1:
                    self._fit_slope(coded, tried[other][0])
                    self._observe(coded)
                nxt = self._choose(layers, future)
            if nxt == q or nxt in misses:
                break
            q = nxt
        best = min(misses, key=lambda k: abs(misses[k]))
        coded, state = tried[best]
        self._observe(coded)
        bits = sum(map(_frame_bits, coded))
        self.spent += bits
        self.done += len(plans)
        self.records.append(GopRecord(min(p.display_index for p in plans), len(plans), best, bits,
                                      list(misses)))
        return coded, state


def _between(misses: dict) -> int | None:
    """Once attempts lie on both sides of the target, the q between the nearest two where the
    stream's log-total crosses it (linear in q between them: the GOP's own measurements, not the
    model, whose one slope misses the curvature of log-bits in q); None without such a pair or
    with no q left between them."""
    under = [k for k, m in misses.items() if m < 0]
    over = [k for k, m in misses.items() if m > 0]
    if not under or not over:
        return None
    lo, hi = max(under), min(over)
    if abs(hi - lo) < 2:
        return None
    l_lo, l_hi = math.log1p(misses[lo]), math.log1p(misses[hi])
    q = round(lo + (hi - lo) * -l_lo / (l_hi - l_lo))
    return min(max(q, min(lo, hi) + 1), max(lo, hi) - 1)
