"""The deblocking filter (docs/bitstream.md §4.9): what it changes, what it leaves, how the
encoder chooses it and how the residual layer carries it."""

import numpy as np
import pytest

from lvcodec.codec import residual
from lvcodec.codec.deblock import (
    GRID, OFF, STRENGTHS, choose_strengths, deblock, deblock_plane, strength_params,
)
from lvcodec.codec.residual import decode_residual, encode_residual, with_deblocking
from lvcodec.errors import CorruptStream
from lvcodec.io import Frame


def _planes(f: Frame) -> tuple:
    return f.y, f.u, f.v


def _reference(plane: np.ndarray, strength: int) -> np.ndarray:
    """§4.9 sample by sample, as the document states it: the specification the vectorised
    filter must match."""
    if strength == OFF:
        return plane.copy()
    tc, beta = strength_params(strength)
    h = tc >> 1
    clip = lambda v, lo, hi: max(lo, min(hi, v))  # noqa: E731

    def one_pass(x):
        out = x.copy()
        rows, cols = x.shape
        for e in range(GRID, cols - 3, GRID):
            for y in range(rows):
                p0, p1, p2, p3 = (int(x[y, e - 1 - i]) for i in range(4))
                q0, q1, q2, q3 = (int(x[y, e + i]) for i in range(4))
                d = (9 * (q0 - p0) - 3 * (q1 - p1) + 8) >> 4
                dp, dq = abs(p2 - 2 * p1 + p0), abs(q2 - 2 * q1 + q0)
                if dp + dq >= beta or abs(d) >= 10 * tc:
                    continue
                if (2 * (dp + dq) < beta >> 2 and abs(p3 - p0) + abs(q0 - q3) < beta >> 3
                        and abs(p0 - q0) < (5 * tc + 1) >> 1):
                    ramp = {-3: (2 * p3 + 3 * p2 + p1 + p0 + q0 + 4) >> 3,
                            -2: (p2 + p1 + p0 + q0 + 2) >> 2,
                            -1: (p2 + 2 * p1 + 2 * p0 + 2 * q0 + q1 + 4) >> 3,
                            0: (p1 + 2 * p0 + 2 * q0 + 2 * q1 + q2 + 4) >> 3,
                            1: (p0 + q0 + q1 + q2 + 2) >> 2,
                            2: (p0 + q0 + q1 + 3 * q2 + 2 * q3 + 4) >> 3}
                    for i, v in ramp.items():
                        old = int(x[y, e + i])
                        out[y, e + i] = clip(clip(v, old - 2 * tc, old + 2 * tc), 0, 255)
                    continue
                d = clip(d, -tc, tc)
                out[y, e - 1], out[y, e] = clip(p0 + d, 0, 255), clip(q0 - d, 0, 255)
                out[y, e - 2] = clip(p1 + clip((((p2 + p0 + 1) >> 1) - p1 + d) >> 1, -h, h), 0, 255)
                out[y, e + 1] = clip(q1 + clip((((q2 + q0 + 1) >> 1) - q1 - d) >> 1, -h, h), 0, 255)
        return out

    return one_pass(one_pass(plane.astype(np.int64)).T).T.astype(np.uint8)


def _blocky(h=40, w=52, seed=0):
    """A smooth ramp (the source) and the same quantized to 8×8 block means (the picture)."""
    y, x = np.mgrid[0:h, 0:w]
    src = np.clip(60 + 1.7 * x + 0.9 * y + np.random.default_rng(seed).normal(0, 0.6, (h, w)),
                  0, 255).astype(np.uint8)
    pic = src.astype(np.float64).copy()
    for r in range(0, h, 8):
        for c in range(0, w, 8):
            pic[r:r + 8, c:c + 8] = pic[r:r + 8, c:c + 8].mean()
    return src, np.round(pic).astype(np.uint8)


@pytest.mark.parametrize("strength", [1, 2, 8, 9, 20, STRENGTHS])
def test_the_filter_is_the_documented_sample_by_sample_rule(strength):
    """On flat blocks (the ramp), textured ones (noise) and saturated ones, every rule is used."""
    rng = np.random.default_rng(strength)
    _, plane = _blocky(45, 51, strength)
    plane = plane.astype(int)
    plane[:, 24:40] += rng.integers(-3, 4, (45, 16))
    plane[30:, :] += 200
    plane = np.clip(plane, 0, 255).astype(np.uint8)
    out = deblock_plane(plane, strength)
    assert np.array_equal(out, _reference(plane, strength))
    if strength == STRENGTHS:  # the flat sides' ramps reach the third sample
        assert (out[:, 5::GRID] != plane[:, 5::GRID]).any()


def test_it_smooths_the_steps_at_the_grid_and_touches_nothing_else():
    src, pic = _blocky()
    out = deblock_plane(pic, 12)
    err = lambda a: np.square(a.astype(int) - src.astype(int)).sum()  # noqa: E731
    assert err(out) < 0.8 * err(pic)
    changed = np.argwhere(out != pic)
    near = (5, 6, 7, 0, 1, 2)  # three samples either side of an edge
    assert len(changed) and all(r % GRID in near or c % GRID in near for r, c in changed)
    assert np.array_equal(deblock_plane(pic, OFF), pic)


def test_a_real_edge_is_left_as_it_is():
    """A step of 10 × the clip or more (an edge of the picture, not of the coder) is kept."""
    plane = np.full((16, 24), 40, np.uint8)
    plane[:, 8:] = 72  # the correction would be (9 · 32 − 3 · 32 + 8) >> 4 = 12
    assert strength_params(1)[0] == 1 and strength_params(2)[0] == 2
    assert np.array_equal(deblock_plane(plane, 1), plane)  # 12 ≥ 10 · 1
    assert not np.array_equal(deblock_plane(plane, 2), plane)  # 12 < 10 · 2


def test_the_encoder_chooses_off_for_a_perfect_picture_and_a_strength_for_a_blocky_one():
    src, pic = _blocky()
    frame = lambda y: Frame(y, y[::2, ::2].copy(), y[1::2, 1::2].copy())  # noqa: E731
    assert choose_strengths(frame(src), frame(src))[0] == (OFF, OFF, OFF)
    chosen, out = choose_strengths(frame(src), frame(pic))
    assert chosen[0] != OFF
    assert all(np.array_equal(a, b) for a, b in zip(_planes(out), _planes(deblock(frame(pic), chosen))))
    errors = {s: [np.square(deblock_plane(p, s).astype(int) - q).sum()
                  for p, q in zip(_planes(frame(pic)), _planes(frame(src)))]
              for s in range(STRENGTHS + 1)}
    for k, s in enumerate(chosen):  # the least error, the first of equal ones
        assert s == min(errors, key=lambda t: (errors[t][k], t))


def _frames(seed=1):
    src, pic = _blocky(48, 64, seed)
    chroma = lambda y: y[::2, ::2].copy()  # noqa: E731
    return Frame(src, chroma(src), chroma(src)[::-1].copy()), Frame(pic, chroma(pic), chroma(pic)[::-1].copy())


def test_the_layer_carries_the_strengths_and_the_decoder_filters_with_them():
    src, base = _frames()
    data, picture = encode_residual(src, base, 30)  # coarse: the blocks stay
    assert data[3:6] == bytes([OFF] * 3)
    assert all(np.array_equal(a, b) for a, b in zip(_planes(decode_residual(data, base)), _planes(picture)))
    filtered_data, filtered = with_deblocking(data, src, picture)
    assert filtered_data[3] != OFF and filtered_data[:3] == data[:3] and filtered_data[6:] == data[6:]
    decoded = decode_residual(filtered_data, base)
    assert all(np.array_equal(a, b) for a, b in zip(_planes(decoded), _planes(filtered)))
    assert residual.rd_cost(src, filtered, 0, 1.0) < residual.rd_cost(src, picture, 0, 1.0)


def test_a_9x_layer_has_no_strengths_and_is_not_filtered():
    src, base = _frames()
    data, picture = encode_residual(src, base, 30)
    filtered_data, _ = with_deblocking(data, src, picture)
    as_9x = filtered_data[:3] + filtered_data[6:]
    assert all(np.array_equal(a, b) for a, b in zip(_planes(decode_residual(as_9x, base, version=9)), _planes(picture)))
    with pytest.raises(CorruptStream):  # a 10.x reader of it would misread the strengths
        decode_residual(as_9x, base)
