"""The residual layer (docs/bitstream.md §4.7): its integer reconstruction, its syntax, bad
substreams, and what the sessions do with it."""

import io

import numpy as np
import pytest

from codec_helpers import decode, encode_frames, rewrite_frame
from conftest import synthetic_clip
from lvcodec.bitstream import LvcReader
from lvcodec.codec import residual
from lvcodec.codec.residual import (
    GROUP, GROUPS, M, STEP_INDICES, candidate_steps, decode_residual, encode_residual,
    optimal_step_index, step_of,
)
from lvcodec.codec.session import PictureMismatch
from lvcodec.entropy import finish, new_encoder
from lvcodec.errors import CorruptStream
from lvcodec.io import Frame
from lvcodec.weights import load_model

BASE_SUBSTREAMS = {"I": 2, "P": 5, "B": 7}


def _frames(seed=0, h=40, w=56):
    """A textured source and a blurred, offset 'nets' picture of it (odd sizes: partial blocks)."""
    rng = np.random.default_rng(seed)
    yy, xx = np.mgrid[0:h, 0:w]
    y = 120 + 50 * np.sin(xx / 3.0) * np.cos(yy / 5.0) + rng.normal(0, 12, (h, w))
    src = Frame(*(np.clip(p, 0, 255).astype(np.uint8) for p in
                  (y, 128 + rng.normal(0, 9, (h // 2, w // 2)), 90 + yy[::2, ::2])))
    blur = lambda p: ((p[:, :-2].astype(int) + p[:, 1:-1] + p[:, 2:]) // 3)  # noqa: E731
    base = Frame(*(np.pad(blur(p), ((0, 0), (1, 1)), mode="edge").astype(np.uint8) + 3
                   for p in (src.y, src.u, src.v)))
    return src, base


def _mse(a: Frame, b: Frame) -> float:
    return float(np.mean((a.y.astype(float) - b.y) ** 2))


def test_the_transform_matrix_is_hevcs_and_the_steps_double_every_six():
    gram = M @ M.T  # rows ~ 64·sqrt(8) x the orthonormal DCT basis: M.T C M / 2^15 inverts
    assert np.all(np.abs(np.diag(gram) - 32768) < 200)
    assert np.all(np.abs(gram - np.diag(np.diag(gram))) < 400)
    assert [step_of(i) for i in (0, 6, 12, 47)] == [64, 128, 256, 114 << 7]
    assert GROUPS == 34 and GROUP[0, 0] == 0 and GROUP[7, 7] == 33
    assert GROUP[0, 1] != GROUP[1, 0] and GROUP[0, 3] == GROUP[1, 2]


def test_a_dc_level_adds_its_mean():
    """Level L at (0, 0) with step S/64 adds round(L·S/64/8) to every sample of the block."""
    levels = np.zeros((1, 1, 8, 8), np.int64)
    levels[0, 0, 0, 0] = 32
    r = residual._inverse(levels, step_of(0))
    assert (r == 4).all()
    levels[0, 0, 0, 0] = -40
    assert (residual._inverse(levels, step_of(0)) == -5).all()


@pytest.mark.parametrize("step", [6, 18, 30])
def test_round_trip_is_exact_and_finer_steps_cost_more_and_err_less(step):
    src, base = _frames()
    data, picture = encode_residual(src, base, step)
    decoded = decode_residual(data, base)
    for p in ("y", "u", "v"):
        assert np.array_equal(getattr(decoded, p), getattr(picture, p))
        assert getattr(decoded, p).shape == getattr(src, p).shape
    coarser, coarse_picture = encode_residual(src, base, step + 6)
    assert len(data) > len(coarser)
    assert _mse(picture, src) < _mse(coarse_picture, src) < _mse(base, src)


def test_rdoq_levels_cost_no_more_than_dead_zone_ones_under_the_same_tables():
    """_rdoq is the per-coefficient optimum of bits + weight · error² among round-to-nearest,
    one less and zero: under the tables fitted to the dead-zone levels, never worse than them,
    and better on a textured residual."""
    src, base = _frames(3)
    enc = residual.ResidualEncoder(src, base)
    banded, classes = enc.planes[0]
    coeffs = residual._unbanded(banded)
    step = step_of(18) / 64
    dz = (np.sign(coeffs) * np.floor(np.abs(coeffs) / step + residual.DEADZONE)).astype(np.int64)
    idx = residual._indexes(residual._fit(residual._banded(dz), classes, 18), classes)
    lengths = residual._code_lengths()

    def cost(levels, weight):
        v = np.clip(levels, -lengths.R, lengths.R) + lengths.R
        return float((lengths.matrix[idx, v] / 65536.0).sum()
                     + weight * ((coeffs - levels * step) ** 2).sum())

    for weight in (0.001, 0.02, 0.5):
        chosen = residual._rdoq(coeffs, idx, step, weight)
        assert cost(chosen, weight) <= cost(dz, weight)
    assert cost(residual._rdoq(coeffs, idx, step, 0.02), 0.02) < cost(dz, 0.02)


@pytest.mark.parametrize("lam", [0.005, 0.05])
def test_rdoq_layers_round_trip_exactly_and_lower_the_rd_cost(lam):
    src, base = _frames(4)
    enc = residual.ResidualEncoder(src, base)
    for step in candidate_steps(lam):
        data, picture = enc.code(step, lam)
        decoded = decode_residual(data, base, predicted=data == residual.EMPTY_LAYER)
        assert all(np.array_equal(getattr(decoded, p), getattr(picture, p)) for p in "yuv")
    plain = min(residual.rd_cost(src, pic, len(d), lam)
                for d, pic in (enc.code(s) for s in candidate_steps(lam)))
    assert enc.cheapest(lam, candidate_steps(lam))[2] <= plain


def test_planes_of_zero_levels_are_left_out():
    """A plane the source matches leaves the layer (no header, no levels): the same picture."""
    src, base = _frames(5)
    src = Frame(src.y, base.u, base.v)
    data, picture = residual.ResidualEncoder(src, base).code(18, 0.05)
    assert data[0] != residual.NO_RESIDUAL and data.count(residual.NO_RESIDUAL) >= 2
    decoded = decode_residual(data, base)
    assert all(np.array_equal(getattr(decoded, p), getattr(picture, p)) for p in "yuv")
    assert np.array_equal(picture.u, base.u) and np.array_equal(picture.v, base.v)
    # Nothing to send anywhere: the layer of no plane, which only a block-motion frame may carry,
    # and which the encoder then does not send at all.
    enc = residual.ResidualEncoder(base, base)
    assert enc.code(18, 0.05)[0] == residual.EMPTY_LAYER
    assert enc.cheapest(0.05, [18])[0] is None


def test_optimal_step_follows_lambda():
    assert optimal_step_index(0.5) < optimal_step_index(0.03) < optimal_step_index(0.002)
    assert 0 <= optimal_step_index(1e9) and optimal_step_index(1e-9) == STEP_INDICES - 1


def _layer_with_scales(groups) -> bytes:
    """A 10.0 luma layer whose tables say `groups` (checked by the decoder only) and no levels."""
    enc = new_encoder()
    residual._encode_tables(enc, residual.PlaneResidual(5, tuple(groups), (0,) * residual.CLASSES))
    return bytes([5, 0xFF, 0xFF, 0, 0, 0]) + finish(enc)


@pytest.mark.parametrize("cut,message", [
    (lambda d: d[:1], "truncated"),
    (lambda d: bytes([STEP_INDICES]) + d[1:], "step index"),
    (lambda d: d[:1] + bytes([200]) + d[2:], "step index"),
    (lambda d: _layer_with_scales([100, 130] + [127] * (GROUPS - 2)), "scale index"),
    (lambda d: bytes([0xFF, 0xFF, 0xFF, 0, 0, 0]), "codes no plane"),
    (lambda d: d[:4], "truncated"),
    (lambda d: d[:3] + bytes([41]) + d[4:], "deblocking strength 41 out of range"),
    (lambda d: d[:-1], "32-bit words"),
])
def test_bad_substreams_are_one_line_errors(cut, message):
    src, base = _frames()
    data, _ = encode_residual(src, base, 18)
    with pytest.raises(CorruptStream, match=message) as e:
        decode_residual(cut(data), base)
    assert "\n" not in str(e.value)


def test_layers_before_9_keep_their_byte_tables():
    """An 8.x layer: step and tables as bytes, levels without contexts; read as it was."""
    src, base = _frames()
    lv = np.zeros((3, 4, 8, 8), np.int64)
    lv[0, 1, 0, 0], lv[2, 3, 1, 2] = 7, -2
    layer = residual.PlaneResidual(12, tuple(range(20, 20 + GROUPS)), (0, 1, -2, 3, 4))
    enc = new_encoder()
    residual._coder().encode(enc, lv, residual._indexes(layer, residual._classes(base.u)))
    head = bytes([0xFF, 12, *layer.groups, *(o & 0xFF for o in layer.offsets), 0xFF])
    picture = decode_residual(head + finish(enc), base, version=8)
    expected = residual.add_residual(base, [None, layer, None], [None, lv, None])
    assert all(np.array_equal(getattr(picture, p), getattr(expected, p)) for p in "yuv")
    assert not np.array_equal(picture.u, base.u)
    bad = head[:2] + bytes([200]) + head[3:]
    with pytest.raises(CorruptStream, match="scale index"):
        decode_residual(bad + finish(enc), base, version=8)


def test_levels_are_coded_in_the_context_of_their_lower_bands():
    """A coefficient's context: its band's range (0-2, 3-6, 7-14) and the count bucket of the
    nonzero levels of its block's lower bands (0, 1, 2, 3-4, 5-8, 9+)."""
    lv = np.zeros((1, 2, 8, 8), np.int64)
    lv[0, 0, 0, 0] = 3  # band 0
    lv[0, 0, 1, 0] = -1  # band 1
    lv[0, 0, 2, 2] = 1  # band 4
    ctx = residual._unbanded(residual._banded_contexts(residual._banded(lv)))
    counts = residual.COUNTS
    assert ctx[0, 0, 0, 0] == 0 and ctx[0, 0, 0, 1] == 1 and ctx[0, 0, 1, 0] == 1
    assert ctx[0, 0, 1, 1] == 2 and ctx[0, 0, 0, 3] == counts + 2 and ctx[0, 0, 2, 2] == counts + 2
    assert ctx[0, 0, 3, 3] == counts + 3 and ctx[0, 0, 7, 7] == 2 * counts + 3
    assert np.array_equal(ctx[0, 1], residual.RANGE_OF_BAND[residual.BAND] * counts)


def _units(data):
    return [(h, s) for h, s, _ in LvcReader(io.BytesIO(data)).frames()]


def test_high_q_frames_carry_it_and_decode_exactly(tiny_models, clip):
    model = load_model("lvc-tiny")
    data, coded = encode_frames(model, clip, 63, 1, frames=3, intra_period=32, gop=1)
    units = _units(data)
    assert any(len(s) == BASE_SUBSTREAMS[h.frame_type.name] + 1 for h, s in units)
    decoded = decode(model, data, 1)
    for c, d in zip(coded, decoded):
        assert np.array_equal(c.recon.y, d.y) and np.array_equal(c.recon.v, d.v)
    plain, plain_coded = encode_frames(model, clip, 63, 1, frames=3, residual=False)
    assert all(len(s) == BASE_SUBSTREAMS[h.frame_type.name] for h, s in _units(plain))
    # Where it is sent, the layer lowers the frame's distortion.
    assert _mse(coded[0].recon, coded[0].source) < _mse(plain_coded[0].recon, plain_coded[0].source)


def test_a_damaged_layer_or_an_extra_substream_is_refused(tiny_models, clip):
    model = load_model("lvc-tiny")
    data, _ = encode_frames(model, clip, 63, 1, frames=2, intra_period=32, gop=1)
    units = _units(data)
    h, s = next((h, s) for h, s in units if len(s) == BASE_SUBSTREAMS[h.frame_type.name] + 1)

    def rewrite(substreams):
        return rewrite_frame(data, (h.display_index, h.frame_type), substreams)

    with pytest.raises(CorruptStream, match="substreams"):
        decode(model, rewrite([*s, s[-1]]), 1)
    # Another layer that parses: the picture differs from the one the frame's hash names.
    other = bytes([s[-1][0] + 1]) + s[-1][1:] if s[-1][0] + 1 < STEP_INDICES else s[-1]
    with pytest.raises((PictureMismatch, CorruptStream)):
        decode(model, rewrite([*s[:-1], other]), 1)


@pytest.mark.parametrize("intra_period,gop,expected", [
    (32, 4, {"I": {"anchor"}, "P": {"anchor"}, "B": {"b"}}),  # random access
    (32, 1, {"I": {"low_delay"}, "P": {"low_delay"}}),
    (1, 4, {"I": {"intra"}}),  # all-intra, whatever the GOP
])
def test_residual_lambda_is_scaled_by_the_frames_role(
        tiny_models, tmp_path, monkeypatch, intra_period, gop, expected):
    from lvcodec.codec.session import Encoder
    from lvcodec.rd import lambda_for

    seen = {}
    real = Encoder._residual

    def spy(self, source, recon, quality, temporal_layer, refs, nets_bytes):
        kind = "I" if not refs else "B" if len(refs) == 2 else "P"
        scale = self._lambda(quality, temporal_layer) / lambda_for(quality, self.model.lambda_range)
        seen.setdefault(kind, set()).add(round(scale, 9))
        return real(self, source, recon, quality, temporal_layer, refs, nets_bytes)

    monkeypatch.setattr(Encoder, "_residual", spy)
    clip = synthetic_clip(tmp_path / "c.y4m", frames=5, seed=2)
    encode_frames(load_model("lvc-tiny"), clip, 63, 1, frames=5, intra_period=intra_period, gop=gop)
    assert seen == {k: {residual.LAMBDA_SCALES[r] for r in roles} for k, roles in expected.items()}
