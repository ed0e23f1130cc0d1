"""Synthetic frames for the evaluation tests (content, not noise, so codecs behave normally)."""

import numpy as np

from lvcodec.io import Frame


def synth_frames(width=64, height=48, frames=3, seed=0):
    rng = np.random.default_rng(seed)
    yy, xx = np.mgrid[0:height, 0:width]
    to8 = lambda a: np.clip(np.round(a), 0, 255).astype(np.uint8)  # noqa: E731
    out = []
    for t in range(frames):
        y = 60 + 1.5 * xx + 40 * np.sin((yy + 2 * t) / 5.0) + rng.normal(0, 2, (height, width))
        y[height // 3: height // 2, width // 4: width // 2] = 220
        u = 128 + 20 * np.cos(xx[::2, ::2] / 6.0)
        v = 128 - 0.5 * yy[::2, ::2]
        out.append(Frame(to8(y), to8(u), to8(v)))
    return out
