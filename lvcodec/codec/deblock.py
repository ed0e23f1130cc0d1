"""The deblocking filter (§4.9): the last step of a frame with a residual layer (10.0).

The residual layer quantizes 8x8 blocks and the block-motion prediction moves whole blocks, so
at low rates the picture steps at the 8-sample grid where the source is smooth. The filter evens
those steps out (the shapes of HEVC's luma filters): at each edge of the grid, where both sides
are smooth and the step is small enough to be the coder's, not the picture's, it moves the two
samples either side by a clipped correction, or, where both sides are flat, makes the three
either side a ramp. Its strength is the encoder's choice per frame and plane (one byte each),
made to bring the picture closest to the source; the filtered picture is the frame's output and
what later frames reference (an in-loop filter). Integer arithmetic only: exact on every machine.
"""

import numpy as np

from lvcodec.io import Frame

__all__ = ["GRID", "STRENGTHS", "OFF", "deblock_plane", "deblock", "choose_strengths",
           "strength_params"]

GRID = 8  # edges between samples GRID·k − 1 and GRID·k, k ≥ 1, in every plane
OFF = 0
# A strength byte s (1..STRENGTHS): the clip tc = ((s − 1) & 7) + 1 of the correction and the
# smoothness bound beta = 8 << ((s − 1) >> 3) of the two sides.
STRENGTHS = 40  # tc 1..8 × beta 8..128 (benchmarks/notes/deblocking-2026-12-08.md)
# Encoder (for ablations): False leaves every strength OFF, the pictures of 9.x's decoding.
ENCODE = True


def strength_params(s: int) -> tuple[int, int]:
    """(tc, beta) of a strength byte 1..STRENGTHS."""
    return ((s - 1) & 7) + 1, 8 << ((s - 1) >> 3)


def _vertical_edges(x: np.ndarray, tc: int, beta: int) -> np.ndarray:
    """One pass: every edge between columns GRID·k − 1 and GRID·k with 4 samples on each side,
    all rows, from the samples before the pass (no two edges touch the same samples)."""
    w = x.shape[1]
    cols = np.arange(GRID, w - 3, GRID)
    if not len(cols):
        return x
    p0, p1, p2, p3 = (x[:, cols - 1 - i] for i in range(4))
    q0, q1, q2, q3 = (x[:, cols + i] for i in range(4))
    dp, dq = np.abs(p2 - 2 * p1 + p0), np.abs(q2 - 2 * q1 + q0)
    delta = (9 * (q0 - p0) - 3 * (q1 - p1) + 8) >> 4
    on = (dp + dq < beta) & (np.abs(delta) < 10 * tc)
    # Flat on both sides and a small step: three samples each side to a smooth ramp.
    strong = (on & (2 * (dp + dq) < beta >> 2) & (np.abs(p3 - p0) + np.abs(q0 - q3) < beta >> 3)
              & (np.abs(p0 - q0) < (5 * tc + 1) >> 1))
    weak = on & ~strong
    delta = np.clip(delta, -tc, tc)
    h, c = tc >> 1, 2 * tc
    out = x.copy()

    def put(i, normal, ramp):
        v = np.where(strong, np.clip(ramp, x[:, cols + i] - c, x[:, cols + i] + c),
                     np.where(weak, normal, x[:, cols + i]))
        out[:, cols + i] = np.clip(v, 0, 255)

    put(-1, p0 + delta, (p2 + 2 * p1 + 2 * p0 + 2 * q0 + q1 + 4) >> 3)
    put(0, q0 - delta, (p1 + 2 * p0 + 2 * q0 + 2 * q1 + q2 + 4) >> 3)
    put(-2, p1 + np.clip((((p2 + p0 + 1) >> 1) - p1 + delta) >> 1, -h, h), (p2 + p1 + p0 + q0 + 2) >> 2)
    put(1, q1 + np.clip((((q2 + q0 + 1) >> 1) - q1 - delta) >> 1, -h, h), (p0 + q0 + q1 + q2 + 2) >> 2)
    put(-3, p2, (2 * p3 + 3 * p2 + p1 + p0 + q0 + 4) >> 3)
    put(2, q2, (p0 + q0 + q1 + 3 * q2 + 2 * q3 + 4) >> 3)
    return out


def _filtered(x: np.ndarray, strength: int) -> np.ndarray:
    """An int32 plane filtered at a strength byte 1..STRENGTHS (int32): vertical edges, then
    horizontal edges of the result (the same rule, rows and columns swapped)."""
    tc, beta = strength_params(strength)
    return _vertical_edges(_vertical_edges(x, tc, beta).T, tc, beta).T


def deblock_plane(plane: np.ndarray, strength: int) -> np.ndarray:
    """A plane (uint8) filtered at a strength byte; OFF: the plane itself."""
    if strength == OFF:
        return plane
    return _filtered(plane.astype(np.int32), strength).astype(np.uint8)


def deblock(frame: Frame, strengths) -> Frame:
    """The frame's planes (Y, U, V) each filtered at its strength byte."""
    return Frame(*(deblock_plane(p, s) for p, s in zip((frame.y, frame.u, frame.v), strengths)))


def choose_strengths(source: Frame, picture: Frame) -> tuple[tuple, Frame]:
    """Encoder (informative): per plane, the strength (OFF or 1..STRENGTHS) whose filtered
    plane has the least squared error against the source (the first of equal ones) ->
    (strengths, the picture filtered at them)."""
    strengths, planes = [], []
    for src, pic in zip((source.y, source.u, source.v), (picture.y, picture.u, picture.v)):
        src, x = src.astype(np.int32), pic.astype(np.int32)
        best, best_error = (OFF, x), int(np.square(x - src).sum())
        for s in range(1, STRENGTHS + 1):
            out = _filtered(x, s)
            error = int(np.square(out - src).sum())
            if error < best_error:
                best, best_error = (s, out), error
        strengths.append(best[0])
        planes.append(pic if best[0] == OFF else best[1].astype(np.uint8))
    return tuple(strengths), Frame(*planes)
