"""GOP planning: which frame type each display index gets, and what it references."""

from dataclasses import dataclass

from lvcodec.bitstream import FrameType

__all__ = ["PlannedFrame", "plan_low_delay", "plan_all_intra"]


@dataclass(frozen=True)
class PlannedFrame:
    display_index: int
    frame_type: FrameType
    temporal_layer: int = 0
    refs: tuple = ()


def plan_low_delay(display_index: int, intra_period: int) -> PlannedFrame:
    """Low-delay P (I P P P …): an I frame every `intra_period` frames (0: only the first), else a
    P frame referencing the frame before it. Coding order is display order."""
    if display_index == 0 or (intra_period > 0 and display_index % intra_period == 0):
        return PlannedFrame(display_index, FrameType.I)
    return PlannedFrame(display_index, FrameType.P, refs=(display_index - 1,))


def plan_all_intra(display_index: int) -> PlannedFrame:
    return plan_low_delay(display_index, 1)
