"""Kernel rates behind the exact decoder's speed (benchmarks/notes/exact-kernels-2026-12-01.md).

One 3x3 convolution as the temporal context runs it at 320x180 (50 -> 64 channels on the packed
160x90 frame), and its im2col GEMM: binary64 (the exact path), binary32 with and without oneDNN
(the float decoder before), and int8 x int8 -> int32 (torch._int_mm), the only exact integer
GEMM PyTorch offers on a CPU; and the exact path's shifted GEMMs (numerics._shifted_gemms). Same
process, interleaved repeats, medians. `python benchmarks/notes/exact_kernels.py`
"""
import statistics
import time

import torch
import torch.nn.functional as F

torch.manual_seed(0)
x = torch.randint(-2 ** 20, 2 ** 20, (1, 50, 90, 160)).double()
w = torch.randint(-2 ** 16, 2 ** 16, (64, 50, 3, 3)).double()
cols = F.unfold(x, 3, padding=1)[0]  # 450 x 14400
a8 = torch.randint(-128, 128, (64, 450), dtype=torch.int8)
b8 = torch.randint(-128, 128, (450, 14400), dtype=torch.int8)
flops = 2 * 64 * 450 * 14400
from lvcodec.nets.numerics import _shifted_gemms  # noqa: E402

taps = w.permute(2, 3, 0, 1).reshape(9, 64, 50).contiguous()
CASES = {
    "conv2d binary64 (exact path before)": lambda: F.conv2d(x, w, padding=1),
    "shifted GEMMs binary64 (exact path now)": lambda: _shifted_gemms(x, taps, 1, "zeros"),
    "conv2d binary32, no oneDNN": lambda: F.conv2d(x.float(), w.float(), padding=1),
    "conv2d binary32, oneDNN": None,
    "GEMM binary64 (im2col)": lambda: w.view(64, -1) @ cols,
    "GEMM int8 -> int32 (_int_mm)": lambda: torch._int_mm(a8, b8),
}
x32, w32 = x.float(), w.float()


def run(name, f):
    if name == "conv2d binary32, oneDNN":
        with torch.backends.mkldnn.flags(enabled=True):
            return _time(lambda: F.conv2d(x32, w32, padding=1))
    with torch.backends.mkldnn.flags(enabled=False):
        return _time(f)


def _time(f, n=5):
    f()
    t = time.perf_counter()
    for _ in range(n):
        f()
    return (time.perf_counter() - t) / n


for threads in (1, 2):
    torch.set_num_threads(threads)
    times = {k: [] for k in CASES}
    for _ in range(3):
        for k, f in CASES.items():
            times[k].append(run(k, f))
    print(f"\n{threads} thread(s)")
    base = statistics.median(times["conv2d binary64 (exact path before)"])
    for k, v in times.items():
        m = statistics.median(v)
        print(f"| {k} | {m * 1e3:.1f} ms | {flops / m / 1e9:.0f} G(FL)OP/s | x{base / m:.1f} |")
