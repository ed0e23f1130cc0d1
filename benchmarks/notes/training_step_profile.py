"""Where a training step's time goes on this CPU, and what torch.compile buys (issue 18).

    python benchmarks/notes/training_step_profile.py out/train-data STAGE [--compile]

One thread, the trainer's fast path (lvcodec.train.bench._Stage: precision from the hardware,
fused Adam, prefetched batches). Prints the share of the step's CPU time in the convolutions'
forward and backward kernels against everything else (torch.profiler, 5 steps after 3 of
warm-up), and with --compile the median step time before and after compiling the intra net
(torch.compile, inductor) and the compile time.
"""

import statistics
import sys
import time

import torch
from torch.profiler import ProfilerActivity, profile

from lvcodec.train.bench import _Stage
from lvcodec.train.loss import rd_loss
from lvcodec.weights import load_model

CONV = ("aten::convolution_backward", "aten::mkldnn_convolution", "aten::_convolution",
        "aten::convolution", "aten::conv2d")


def _median_step(runner, n=8):
    times = []
    for _ in range(n):
        t0 = time.perf_counter()
        runner.step()
        times.append(time.perf_counter() - t0)
    return statistics.median(times)


def main(data_dir, stage, compile_=False):
    torch.set_num_threads(1)
    model = load_model("lvc-base")
    runner = _Stage(stage, model, [data_dir], True, 128, seed=1)
    try:
        for _ in range(3):
            runner.step()
        with profile(activities=[ProfilerActivity.CPU]) as prof:
            for _ in range(5):
                runner.step()
        events = prof.key_averages()
        total = sum(e.self_cpu_time_total for e in events)
        conv = sum(e.self_cpu_time_total for e in events if e.key in CONV)
        copies = sum(e.self_cpu_time_total for e in events if e.key in ("aten::copy_", "aten::_to_copy"))
        print(f"{stage} ({runner.prec.name}): {total / 5e6:.3f} s CPU per step; convolutions "
              f"{100 * conv / total:.1f} %, copies and casts {100 * copies / total:.1f} %, "
              f"the rest {100 * (total - conv - copies) / total:.1f} %")
        if compile_:
            if stage != "intra":
                sys.exit("--compile: the intra stage only")
            eager = _median_step(runner)
            net = torch.compile(runner.trained)
            runner.forward = lambda x, q: rd_loss(net(x, q), x, q, model.lambda_range)
            t0 = time.perf_counter()
            runner.step()
            compile_s = time.perf_counter() - t0
            runner.step()
            compiled = _median_step(runner)
            print(f"intra: eager {eager:.3f} s/step, compiled {compiled:.3f} s/step "
                  f"(x{eager / compiled:.2f}); compiling took {compile_s:.0f} s, paid back after "
                  f"{compile_s / max(eager - compiled, 1e-9):.0f} steps")
    finally:
        runner.close()


if __name__ == "__main__":
    main(sys.argv[1], sys.argv[2], "--compile" in sys.argv[3:])
