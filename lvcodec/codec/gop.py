"""GOP planning: which frame type each display index gets, in coding order."""

from dataclasses import dataclass

from lvcodec.bitstream import FrameType

__all__ = ["PlannedFrame", "plan_all_intra"]


@dataclass(frozen=True)
class PlannedFrame:
    display_index: int
    frame_type: FrameType
    temporal_layer: int = 0
    refs: tuple = ()


def plan_all_intra(display_index: int) -> PlannedFrame:
    """All-intra structure: every frame an I frame with no references (the only one so far)."""
    return PlannedFrame(display_index, FrameType.I)
