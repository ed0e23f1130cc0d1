"""GOP planning: frame types, references, temporal layers, per-frame quality and coding order.

One structure covers both coding modes. Anchors (temporal layer 0) come every `gop` frames, and
at every intra frame: an anchor is an I frame at the intra period, else a P frame on the previous
anchor. The frames between two anchors are B frames in a dyadic hierarchy, coded after the later
anchor: the middle one from the two anchors (layer 1), then each half in turn (layer 2, …).
gop = 1 is low-delay P (I P P P …: no frame in between, coding order = display order).

Closed GOPs (x265's --no-open-gop): the anchor interval that would end on an intra frame ends one
frame before it, on a P anchor, so no frame before an intra frame references it or anything after
it, and the input can be cut at intra frames and the pieces coded apart (codec/chunks.py).
"""

from dataclasses import dataclass

from lvcodec.bitstream import FrameType

__all__ = ["PlannedFrame", "plan_gop", "next_anchor", "hierarchy", "layer_quality",
           "plan_low_delay", "QUALITY_STEP_PER_LAYER"]

# Higher temporal layers are referenced by fewer frames (the top one by none), so their bits buy
# less: each layer codes at a lower quality index, as x265/HM lower λ by layer. 4 steps of q is a
# factor 0.81 in λ, about one QP step of HEVC's random-access configuration per layer.
QUALITY_STEP_PER_LAYER = 4


@dataclass(frozen=True)
class PlannedFrame:
    display_index: int
    frame_type: FrameType
    temporal_layer: int = 0
    refs: tuple = ()


def layer_quality(quality: int, layer: int) -> int:
    return max(0, quality - QUALITY_STEP_PER_LAYER * layer)


def _is_intra(index: int, intra_period: int) -> bool:
    """intra_period as in the sequence header: 0 = only the first frame."""
    return index == 0 or (intra_period > 0 and index % intra_period == 0)


def next_anchor(anchor: int, gop: int, intra_period: int, closed: bool = False) -> int:
    """The anchor after `anchor`: `gop` frames later, or the next intra frame if that is sooner.

    closed: an interval reaching the next intra frame ends on the frame before it instead (a P
    anchor), and the intra frame follows alone (plan_gop codes no B frame between the two)."""
    nxt = anchor + gop
    if intra_period > 0:
        intra = (anchor // intra_period + 1) * intra_period
        if closed and nxt >= intra and intra - 1 > anchor:
            return intra - 1
        nxt = min(nxt, intra)
    return nxt


def hierarchy(past: int, future: int, layer: int = 1):
    """The B frames strictly between decoded pictures `past` and `future`, in coding order:
    (display index, past, future, temporal layer), the middle first, then each half."""
    if future - past < 2:
        return
    mid = (past + future) // 2
    yield mid, past, future, layer
    yield from hierarchy(past, mid, layer + 1)
    yield from hierarchy(mid, future, layer + 1)


def plan_gop(prev_anchor: int | None, anchor: int, intra_period: int) -> list[PlannedFrame]:
    """The frames after `prev_anchor` up to `anchor`, in coding order: the anchor, then the
    hierarchy of B frames between them (prev_anchor None: the first frame, alone)."""
    if prev_anchor is None or _is_intra(anchor, intra_period):
        frames = [PlannedFrame(anchor, FrameType.I)]
    else:
        frames = [PlannedFrame(anchor, FrameType.P, refs=(prev_anchor,))]
    if prev_anchor is not None:
        frames += [PlannedFrame(m, FrameType.B, layer, (a, b))
                   for m, a, b, layer in hierarchy(prev_anchor, anchor)]
    return frames


def plan_low_delay(display_index: int, intra_period: int) -> PlannedFrame:
    """Low-delay P (I P P P …): the one frame of a GOP of 1."""
    prev = display_index - 1 if display_index > 0 else None
    return plan_gop(prev, display_index, intra_period)[0]
