"""Column tiles in the exact convolution (numerics._shifted_gemms): the convolutions a bbb_sky
decode spends most on, summed in tiles of TAP_TILE outputs against whole rows (one tile), the two
interleaved, medians; the integers are checked equal.

    python benchmarks/notes/tap_tiles.py [THREADS]
"""

import statistics
import sys
import time

import torch

from lvcodec.nets import numerics

SHAPES = [  # (out, in, k, h, w): the largest shares of a 640x360 random-access decode
    (48, 48, 3, 192, 320), (64, 64, 3, 96, 160), (256, 64, 3, 48, 80), (64, 50, 3, 192, 320),
    (8, 64, 3, 192, 320), (6, 48, 3, 192, 320), (32, 96, 3, 192, 320)]


def main(threads: int = 1, repeats: int = 7):
    torch.set_num_threads(threads)
    torch.manual_seed(0)
    tiled = numerics.TAP_TILE
    print(f"| conv (out, in, k) at h x w | whole rows ms | tiles of {tiled} ms | speed-up |")
    print("|---|---:|---:|---:|")
    for o, c, k, h, w in SHAPES:
        x = torch.randn(1, c, h, w, dtype=torch.float64)
        scale = numerics.block_scale(x, numerics.ACT_BITS)
        taps = torch.randint(-2**16, 2**16, (k * k, o, c)).double()
        times = {tiled: [], 1 << 30: []}
        outs = {}
        for _ in range(repeats):
            for tile in times:
                numerics.TAP_TILE = tile
                t0 = time.perf_counter()
                outs[tile] = numerics._shifted_gemms(x, scale, taps, k // 2, "zeros")
                times[tile].append(time.perf_counter() - t0)
        numerics.TAP_TILE = tiled
        assert torch.equal(outs[tiled], outs[1 << 30])
        whole, tile = (1000 * statistics.median(times[t]) for t in (1 << 30, tiled))
        print(f"| {o}, {c}, {k} at {h}x{w} | {whole:.1f} | {tile:.1f} | ×{whole / tile:.2f} |")


if __name__ == "__main__":
    main(*map(int, sys.argv[1:]))
