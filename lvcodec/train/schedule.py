"""`lvc train-all`: every stage in order within one time budget — the run a borrowed GPU gets.

intra -> inter (P, cascades of 4) -> bi (GOPs of 4) -> enhance, each for its share of the
minutes, each exported into the model the next stage starts from, so whatever the budget, the
result is a complete model. On CUDA the batches start at what a large card holds (patches of
256) and halve on running out of memory (trainer.BatchSize); bf16 wherever the device has it.
"""

from pathlib import Path

import torch

from lvcodec.errors import ConfigError

__all__ = ["STAGES", "train_all"]

# (stage, frames, share of the minutes, CUDA batch, CPU batch): the share follows what each stage
# bought per minute so far (intra first: every other net codes against its frames).
STAGES = (
    ("intra", 1, 0.35, 32, 8),
    ("inter", 4, 0.25, 16, 8),
    ("bi", 5, 0.25, 8, 4),
    ("enhance", 5, 0.15, 8, 4),
)


def train_all(data_dirs, run_root: Path, export: Path, *, minutes: float, device: str = "cpu",
              init: str = "lvc-base", patch: int | None = None, precision: str = "auto",
              threads: int | None = None, stages=None, log=print) -> dict:
    """Train the stages of STAGES (or `stages`, a subset in that order) for `minutes` in all."""
    from lvcodec.train.export import export_model
    from lvcodec.train.trainer import train_inter, train_intra

    if minutes <= 0:
        raise ConfigError("train-all needs --minutes > 0")
    cuda = torch.device(device).type == "cuda"
    patch = patch or (256 if cuda else 128)
    chosen = [s for s in STAGES if stages is None or s[0] in stages]
    if not chosen:
        raise ConfigError(f"no stage among {', '.join(stages)}")
    total_share = sum(s[2] for s in chosen)
    run_root, export = Path(run_root), Path(export)
    infos = {}
    source = init
    for stage, frames, share, gpu_batch, cpu_batch in chosen:
        budget = minutes * share / total_share
        log(f"== {stage}: {budget:.1f} min, from {source}")
        common = dict(minutes=budget, batch=gpu_batch if cuda else cpu_batch, patch=patch,
                      device=device, init=source, precision=precision, threads=threads, log=log)
        if stage == "intra":
            infos[stage] = train_intra(data_dirs, run_root / stage, **common)
        else:
            infos[stage] = train_inter(data_dirs, run_root / stage, frames=frames, stage=stage,
                                       **common)
        export_model(run_root / stage, export)
        source = str(export)
        log(f"== {stage}: step {infos[stage]['step']}; exported {export}")
    return infos
