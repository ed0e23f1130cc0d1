"""Encoder settings, one source for the library and `lvc encode` (which takes its defaults and
limits from here); light, so that the command line can read them without loading torch."""

import math
import re
from dataclasses import dataclass

from lvcodec.bitstream import CodingStructure
from lvcodec.bitstream.syntax import HALF_SAMPLE, MAX_QUALITY, QUARTER_SAMPLE
from lvcodec.errors import ConfigError

__all__ = ["EncoderConfig", "DecoderConfig", "ON_ERROR_MODES", "PRESETS", "DEFAULT_INTRA_PERIOD", "MAX_INTRA_PERIOD", "MAX_GOP", "DOWNSAMPLE_MODES",
           "MAX_QUALITY", "parse_bitrate"]

DEFAULT_INTRA_PERIOD = 32
MAX_INTRA_PERIOD = 0xFFFF  # the sequence header's intra_period is a u16
DOWNSAMPLE_MODES = ("off", "on", "auto")
# What the decoder does with a damaged unit: stop (no output), or report it and conceal its frames.
ON_ERROR_MODES = ("fail", "conceal")
# --preset: encoder effort (codec/refine.Refinement): gradient steps that refine the latents of
# each frame type (I, P, B) against the frame's own rate-distortion cost through the frozen
# decoder, and the motions each P/B frame is coded with, the lowest cost kept. medium refines the
# anchors of random access only (few frames, most bits, the references of every B frame: ×1.4
# the encode time at GOP 8); in all-intra and low delay every frame is an anchor, and refining
# them all costs ×6…9, which is slow's business. The decoder and the bitstream are the same for
# every preset; benchmarks/refinement.md measures what each buys and costs.
# block_sizes: log2 of the block-motion block sizes each P/B frame is tried with, the cheapest
# kept: trying 8x8 besides 16x16 costs 1.25-1.4x the fast preset's encode time and saves
# 1.2-1.9 % BD-rate on training clips (benchmarks/notes/block-motion-2026-12-06.md); 32x32 besides
# both, 1.2-1.3x again and -0.5 % (carphone), -1.4 % (cockatoo), -5.6 % (bikes)
# (benchmarks/notes/block-32x32-2026-12-07.md).
# vector_units: the block-motion vector units each P/B frame is tried with (quarter samples,
# 8- and 4-tap filters; half samples, bilinear), the cheapest kept. On training clips
# quarter samples alone save 14.3 % BD-rate on carphone but cost 0.8 and 1.6 % on cockatoo and
# bikes (noisier: the bilinear average smooths); trying both saves 14.3, 2.2 and 0.1 %
# (benchmarks/notes/quarter-sample-motion-2026-12-07.md).
# b_net_distance: the nearest reference distance (in frames) from which a full-scale B frame
# also tries the B net (None: never); nearer, it is coded motion-only (block motion and a
# residual layer, §4.8), as nearly every such B frame is when both are tried. On training clips
# the B net is kept almost only far from its references: bikes in the frames 4 and 8 away (GOP
# 8 layer 1; GOP 16 layers 1-2); tree in one frame 1-2 away at q 16 and 32; carphone, cockatoo
# and realshort nowhere. Skipping it everywhere (fast) cuts the encode time 2.8-3.1x for +0.0 …
# +5.8 % BD-rate (benchmarks/notes/b-frame-nets-2026-12-07.md); from 4 frames (medium) 1.4-1.65x
# for +0.00 % on bikes (identical streams) and -0.01 % on tree
# (benchmarks/notes/b-net-distance-2026-12-07.md).
_BOTH_UNITS = (QUARTER_SAMPLE, HALF_SAMPLE)
PRESETS = {"fast": {"steps": {}, "motion": ("net",), "block_sizes": (4,),
                    "vector_units": (QUARTER_SAMPLE,), "b_net_distance": None},
           "medium": {"steps": {"I": 20, "P": 20}, "motion": ("net",), "random_access_only": True,
                      "block_sizes": (5, 4, 3), "vector_units": _BOTH_UNITS, "b_net_distance": 4},
           "slow": {"steps": {"I": 20, "P": 20, "B": 20}, "motion": ("net", "zero"),
                    "block_sizes": (5, 4, 3), "vector_units": _BOTH_UNITS, "b_net_distance": 1}}
MAX_GOP = 64  # the encoder holds up to this many source frames; the decoder as many pictures


@dataclass(frozen=True)
class EncoderConfig:
    """What the encoder makes of the frames. The defaults are `lvc encode`'s (its options take
    them from here), so the library and the command line make one stream from one call."""

    quality: int = 32
    intra_period: int = DEFAULT_INTRA_PERIOD  # -1: only the first frame is intra
    gop: int = 16  # 1: low-delay P; 2..MAX_GOP: random access, hierarchical B between anchors
    # B frames at half scale, restored by the enhancement net: never, always, or per GOP where
    # that costs less (rate + lambda * distortion, both ways measured; with no B frames or no
    # enhancement net there is nothing to choose, and auto codes every frame at full scale).
    downsample: str = "auto"
    # Closed GOPs (codec/gop.py): no frame references across an intra frame, so the input can be
    # cut at intra frames and the pieces coded apart and joined (codec/chunks.py). Low delay and
    # all-intra are closed anyway; random access pays a P anchor before each intra frame.
    closed_gop: bool = False
    # A target in bits per second: rate control chooses q per GOP (codec/ratecontrol.py) and
    # `quality` only names the stream's nominal q in its header. None: every GOP at `quality`.
    bitrate: float | None = None
    preset: str = "medium"
    # A transform-coded residual on the nets' picture (codec/residual.py), per frame where it
    # lowers rate + λ(q)·distortion: the quality the nets cannot reach (high q). False: never.
    residual: bool = True
    # The residual layer of a P or B frame may predict from the reference pictures, block by
    # block (codec/block_motion.py), where that costs less. False: always on the nets' picture.
    block_motion: bool = True

    def validate(self) -> None:
        if not 0 <= self.quality <= MAX_QUALITY:
            raise ConfigError(f"quality {self.quality} out of range (expected 0..{MAX_QUALITY})")
        if not (self.intra_period == -1 or 1 <= self.intra_period <= MAX_INTRA_PERIOD):
            raise ConfigError(f"intra period {self.intra_period} out of range "
                              f"(expected -1 or 1..{MAX_INTRA_PERIOD})")
        if not 1 <= self.gop <= MAX_GOP:
            raise ConfigError(f"GOP size {self.gop} out of range (expected 1..{MAX_GOP})")
        if self.downsample not in DOWNSAMPLE_MODES:
            raise ConfigError(f"downsample mode '{self.downsample}' unknown (expected "
                              f"{', '.join(DOWNSAMPLE_MODES)})")
        if self.preset not in PRESETS:
            raise ConfigError(f"preset '{self.preset}' unknown (expected {', '.join(PRESETS)})")
        if self.bitrate is not None and not (0 < self.bitrate < math.inf):
            raise ConfigError(f"bit rate {self.bitrate} out of range (expected > 0 bits/s)")
        if self.downsample == "on" and (self.gop == 1 or self.intra_period == 1):
            raise ConfigError("down-sampling codes the B frames between anchors at half scale: "
                              "it needs random access (--structure ra)")

    @property
    def header_intra_period(self) -> int:
        return 0 if self.intra_period == -1 else self.intra_period

    @property
    def structure(self) -> CodingStructure:
        if self.intra_period == 1:
            return CodingStructure.ALL_INTRA
        return CodingStructure.RANDOM_ACCESS if self.gop > 1 else CodingStructure.LOW_DELAY

    @property
    def refinement_steps(self) -> dict:
        """Gradient steps on the latents of each frame type ('I', 'P', 'B'; absent: none) that
        the preset gives this structure."""
        effort = PRESETS[self.preset]
        if effort.get("random_access_only") and self.structure != CodingStructure.RANDOM_ACCESS:
            return {}
        return dict(effort["steps"])

    @property
    def motions(self) -> tuple:
        """The motions each P/B frame is coded with, the cheapest kept (codec/refine.MOTIONS)."""
        return PRESETS[self.preset]["motion"]

    @property
    def block_sizes(self) -> tuple:
        """log2 of the block sizes each P/B frame's block-motion prediction is tried with, the
        cheapest kept (codec/block_motion.py)."""
        return PRESETS[self.preset]["block_sizes"]

    @property
    def b_net_distance(self) -> int | None:
        """The nearest reference distance from which full-scale B frames also try the B net
        (None: never); nearer ones are coded motion-only."""
        return PRESETS[self.preset]["b_net_distance"]

    @property
    def vector_units(self) -> tuple:
        """The block-motion vector units (log2 steps per sample) each P/B frame is tried with,
        the cheapest kept (codec/block_motion.py)."""
        return PRESETS[self.preset]["vector_units"]


@dataclass(frozen=True)
class DecoderConfig:
    """What the decoder does beyond the stream's own syntax; the defaults are `lvc decode`'s.
    The pictures themselves are fixed by the stream (docs/bitstream.md, decoding process)."""

    # fail: the first damaged unit is an error and nothing is written. conceal: each damaged
    # unit is reported, its frames (and those that depend on them, until the next I frame)
    # repeat the last good picture.
    on_error: str = "fail"
    model: str | None = None  # None: the model the stream names

    def validate(self) -> None:
        if self.on_error not in ON_ERROR_MODES:
            raise ConfigError(f"--on-error {self.on_error}: expected {' or '.join(ON_ERROR_MODES)}")


_BITRATE = re.compile(r"(\d+(?:\.\d*)?|\.\d+)([kKmM]?)")


def parse_bitrate(text: str) -> float:
    """'300k' -> 300000.0, '1.5M' -> 1500000.0, '250000' -> 250000.0 (bits per second)."""
    m = _BITRATE.fullmatch(text.strip())
    value = float(m[1]) * {"": 1, "k": 1e3, "m": 1e6}[m[2].lower()] if m else 0.0
    if not value >= 1:
        raise ConfigError(f"--bitrate {text!r}: expected bits per second, a number with an "
                          f"optional k or M (e.g. 300k, 1.5M)")
    return value
