"""bf16 autocast against float32 on this CPU: one training step of each stage on the trainer's
path (fused Adam, prefetched batches), only the precision differing, interleaved blocks, medians.
Decides what `--precision auto` picks from the CPU's flags (lvcodec/train/precision.py).

    python benchmarks/notes/bf16_cpu.py [THREADS] [STAGES]
"""

import statistics
import sys
import time

import torch

from lvcodec.train.bench import _Stage
from lvcodec.train.precision import Precision, cpu_flags
from lvcodec.weights import load_model

PRECISIONS = {"fp32": Precision(None, False, "fp32"),
              "bf16 + channels_last": Precision(torch.bfloat16, True, "bf16")}
DATA = ["out/train-data3"]


def main(threads: int = 1, stages: str = "intra,inter,bi,enhance", steps: int = 2, blocks: int = 2):
    torch.set_num_threads(threads)
    model = load_model("lvc-base")
    bf16 = sorted(f for f in cpu_flags() if "bf16" in f or f.startswith("amx"))
    print(f"CPU bf16 flags: {', '.join(bf16) or 'none'}; {threads} thread(s); torch {torch.__version__}")
    print("\n| stage | fp32 s/step | bf16 s/step | bf16 speed-up |\n|---|---:|---:|---:|")
    for stage in stages.split(","):
        runners = {k: _Stage(stage, model, DATA, True, 128, seed=1, prec=p)
                   for k, p in PRECISIONS.items()}
        times = {k: [] for k in runners}
        try:
            for r in runners.values():  # oneDNN builds its kernels on the first step
                r.step()
            for b in range(blocks):
                for k in (list(runners) if b % 2 == 0 else list(runners)[::-1]):
                    for _ in range(steps):
                        t0 = time.perf_counter()
                        runners[k].step()
                        times[k].append(time.perf_counter() - t0)
        finally:
            for r in runners.values():
                r.close()
        a, b = (statistics.median(times[k]) for k in PRECISIONS)
        print(f"| {stage} | {a:.3f} | {b:.3f} | x{a / b:.2f} |", flush=True)


if __name__ == "__main__":
    main(int(sys.argv[1]) if len(sys.argv) > 1 else 1, *sys.argv[2:3])
