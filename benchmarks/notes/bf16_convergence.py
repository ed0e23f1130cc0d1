"""Does a bf16 training step buy as much as a float32 one near convergence? (issue 18)

    python benchmarks/notes/bf16_convergence.py out/train-data [STEPS] [EVERY] [LR]

From the shipped intra net, trains STEPS steps two ways from the same seed, batches and q draws
(lvcodec.train.bench._Stage: the fast path, bf16 autocast + channels_last where the CPU has
native bf16, against plain float32), with the trainer's learning-rate warm-up (0 -> LR, default
1e-4, over 200 steps). Every EVERY steps both nets are scored the same way, in float32 and eval mode, on
fixed 256x256 crops of the prepared set's held-back photographs (DATA/heldout, never trained
on) at HELDOUT_QS: the RD loss (lambda(q) * 255^2 * MSE-YUV + bpp) summed over the q
(lvcodec.train.bench.heldout_loss). `python -m lvcodec.train.bench --ab-lr` runs the same A/B
with the training loss beside it.
Prints one row per checkpoint with the wall-clock seconds each path has spent training.
"""

import sys
import time
from pathlib import Path

import torch

from lvcodec.train.bench import _Stage, heldout_crops, heldout_loss
from lvcodec.train.config import TrainConfig
from lvcodec.weights import load_model


def main(data_dir: str, steps: int = 600, every: int = 150, lr: float = 1e-4):
    torch.set_num_threads(1)
    model = load_model("lvc-base")
    crops = heldout_crops([Path(data_dir)])
    curves = {}
    for fast in (False, True):
        torch.manual_seed(0)
        r = _Stage("intra", model, [Path(data_dir)], fast, 128, seed=7, lr=lr,
                   warmup=TrainConfig.warmup)
        name = r.prec.name
        rows, spent = [], 0.0
        try:
            rows.append((0, 0.0, heldout_loss(r.trained, crops, model.lambda_range)))
            for s in range(1, steps + 1):
                t0 = time.perf_counter()
                r.step()
                spent += time.perf_counter() - t0
                if s % every == 0:
                    rows.append((s, spent, heldout_loss(r.trained, crops, model.lambda_range)))
                    print(f"{name}: step {s} ({spent:.0f} s): held-out loss {rows[-1][2]:.4f}",
                          flush=True)
        finally:
            r.close()
        curves[name] = rows
    (a, ra), (b, rb) = curves.items()
    print(f"\n| step | {a}: s | {a}: loss | {b}: s | {b}: loss | difference |")
    print("|---:|---:|---:|---:|---:|---:|")
    for x, y in zip(ra, rb):
        print(f"| {x[0]} | {x[1]:.0f} | {x[2]:.4f} | {y[1]:.0f} | {y[2]:.4f} | "
              f"{100 * (y[2] / x[2] - 1):+.2f} % |")


if __name__ == "__main__":
    main(sys.argv[1], *(int(a) for a in sys.argv[2:4]), *(float(a) for a in sys.argv[4:5]))
