"""Does torch.compile (inductor, CPU) speed up a training step? One stage's step as the trainer
runs it (train.bench._Stage: bf16 autocast + channels_last where the CPU has native bf16), eager
against the same step with its forward compiled, timed in interleaved blocks (train.bench.time_steps).

    python benchmarks/notes/torch_compile.py intra|inter
"""

import sys
import time

import torch

from lvcodec.train.bench import _Stage, time_steps
from lvcodec.train.loss import rd_loss
from lvcodec.weights import load_model


def main(stage="intra", data="out/train-data"):
    torch.set_num_threads(1)
    model = load_model("lvc-base")
    eager = _Stage(stage, model, [data], True, 128, 0)
    comp = _Stage(stage, model, [data], True, 128, 0)
    if stage == "intra":
        net, lam = torch.compile(comp.net), model.lambda_range
        comp.forward = lambda x, q: rd_loss(net(x, q), x, q, lam)
    else:
        comp.forward = torch.compile(comp.forward)
    t0 = time.perf_counter()
    comp.step()
    print(f"first compiled step (compiles): {time.perf_counter() - t0:.1f} s", flush=True)
    times = time_steps({"eager": eager, "compiled": comp}, 5, 4)
    for k, v in times.items():
        print(f"{k}: median {sorted(v)[len(v) // 2]:.3f} s/step, best {min(v):.3f}")


if __name__ == "__main__":
    main(*sys.argv[1:])
