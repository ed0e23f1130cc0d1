"""bf16 autocast against float32 on this CPU: one training step of each stage on the trainer's
path (fused Adam, prefetched batches), only the precision differing, interleaved blocks, medians.
Decides what `--precision auto` picks from the CPU's flags (lvcodec/train/precision.py).

    python benchmarks/notes/bf16_cpu.py [THREADS] [STAGES]
"""

import statistics
import sys

import torch

from lvcodec.train.bench import _Stage, time_steps
from lvcodec.train.precision import NATIVE_BF16, Precision, cpu_flags
from lvcodec.weights import load_model

PRECISIONS = {"fp32": Precision(None, False, "fp32"),
              "bf16 + channels_last": Precision(torch.bfloat16, True, "bf16")}
DATA = ["out/train-data3"]


def main(threads: int = 1, stages: str = "intra,inter,bi,enhance", steps: int = 2, blocks: int = 2):
    torch.set_num_threads(threads)
    model = load_model("lvc-base")
    bf16 = [f for f, _ in NATIVE_BF16 if f in cpu_flags()]
    print(f"CPU native bf16: {', '.join(bf16) or 'none'}; {threads} thread(s); torch {torch.__version__}")
    print("\n| stage | fp32 s/step | bf16 s/step | bf16 speed-up |\n|---|---:|---:|---:|")
    for stage in stages.split(","):
        runners = {k: _Stage(stage, model, DATA, True, 128, seed=1, prec=p)
                   for k, p in PRECISIONS.items()}
        times = time_steps(runners, steps, blocks, warmup=1)
        a, b = (statistics.median(times[k]) for k in PRECISIONS)
        print(f"| {stage} | {a:.3f} | {b:.3f} | x{a / b:.2f} |", flush=True)


if __name__ == "__main__":
    main(int(sys.argv[1]) if len(sys.argv) > 1 else 1, *sys.argv[2:3])
