"""Training settings, one source for the library and `lvc train` (which takes its defaults and
limits from here); light, so that the command line can read them without loading torch."""

from dataclasses import dataclass
from pathlib import Path

from lvcodec.errors import ConfigError
from lvcodec.train import BLOCK_MAP_STAGES, MAX_STEP_STAGES, PRED_SKIP_STAGES, STAGE_NAMES

__all__ = ["TrainConfig", "MIN_FRAMES", "MAX_FRAMES", "MAX_STEP", "DEFAULT_RUN_ROOT"]

MIN_FRAMES, MAX_FRAMES = 2, 33  # sequence stages: pairs up to a GOP of 32 + 1
MAX_STEP = 32  # the longest frame distance a P frame is coded at (an anchor of a GOP of 32)
DEFAULT_RUN_ROOT = Path.home() / ".cache" / "lvcodec" / "runs"  # one run directory per stage


@dataclass(frozen=True)
class TrainConfig:
    """One training run. The defaults are `lvc train`'s (its options take them from here)."""

    stage: str = STAGE_NAMES[0]
    frames: int = 2  # sequence stages: sequence length (bi, enhance: GOP length + 1)
    joint: bool = False  # enhance: the B net trains too
    block_map: bool = False  # inter, bi: frames scored as shown through the block-prediction map
    max_step: int = 3  # inter: real clips sampled at frame distances up to this (RA anchors: 8)
    pred_skip: bool = False  # inter, bi: a new run adds the prediction skip to the stage's net
    affine: float = 0.0  # sequence stages: share of synthesised windows that zoom and rotate
    minutes: float | None = None  # stop after this many minutes ...
    steps: int | None = None  # ... or this many more steps (one of the two is needed)
    batch: int = 8
    patch: int = 128
    lr: float = 1e-4
    warmup: int = 200  # steps over which a new optimizer state's learning rate rises from 0
    motion_warmup: int | None = None  # inter: another motion warm-up of this many steps
    init: str | None = "lvc-base"  # the model a new run starts from (None: from scratch)
    width: int | None = None  # intra: hidden channels N of a new run (the init model widened)
    latent: int | None = None  # intra: latent channels M of a new run (the init model widened)
    device: str = "auto"
    threads: int | None = None
    precision: str = "auto"
    checkpoint_minutes: float = 5.0

    def validate(self) -> "TrainConfig":
        if self.stage not in STAGE_NAMES:
            raise ConfigError(f"no training stage {self.stage!r} (one of {', '.join(STAGE_NAMES)})")
        if self.minutes is None and self.steps is None:
            raise ConfigError("give --minutes or --steps")
        if self.stage == "intra" and self.motion_warmup:
            raise ConfigError("--motion-warmup is for --stage inter")
        if self.warmup < 0:
            raise ConfigError("--warmup must be >= 0 steps")
        for name in ("width", "latent"):
            value = getattr(self, name)
            if value is not None and (self.stage != "intra" or value < 1):
                raise ConfigError(f"--{name} is a positive channel count for --stage intra")
        if self.joint and self.stage != "enhance":
            raise ConfigError("--joint is for --stage enhance")
        if self.block_map and self.stage not in BLOCK_MAP_STAGES:
            raise ConfigError(f"--block-map is for --stage {' or '.join(BLOCK_MAP_STAGES)}")
        if self.max_step != TrainConfig.max_step and self.stage not in MAX_STEP_STAGES:
            raise ConfigError(f"--max-step is for --stage {' or '.join(MAX_STEP_STAGES)}")
        if not 1 <= self.max_step <= MAX_STEP:
            raise ConfigError(f"--max-step {self.max_step} out of range (1..{MAX_STEP})")
        if self.pred_skip and self.stage not in PRED_SKIP_STAGES:
            raise ConfigError(f"--pred-skip is for --stage {' or '.join(PRED_SKIP_STAGES)}")
        if self.affine and self.stage == "intra":
            raise ConfigError("--affine is for the sequence stages (not intra)")
        if not 0.0 <= self.affine <= 1.0:
            raise ConfigError(f"--affine {self.affine} is a share of the synthesised sequences (0..1)")
        if not MIN_FRAMES <= self.frames <= MAX_FRAMES:
            raise ConfigError(f"--frames {self.frames} out of range ({MIN_FRAMES}..{MAX_FRAMES})")
        return self

    def run_dir(self) -> Path:
        """The stage's default run directory."""
        return DEFAULT_RUN_ROOT / self.stage
