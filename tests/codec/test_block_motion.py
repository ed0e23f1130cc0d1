"""Block-motion prediction (docs/bitstream.md §4.8): its syntax, its exact prediction, the
encoder's search, bad substreams, and what the sessions do with it."""

import io
from dataclasses import replace

import numpy as np
import pytest

import lvcodec.codec.block_motion as bm
from codec_helpers import decode, encode_frames, rewrite_frame
from conftest import synthetic_clip
from lvcodec.bitstream import LvcReader, LvcWriter
from lvcodec.bitstream.info import describe
from lvcodec.codec.block_motion import (
    AVERAGE, BASE, FUTURE, PAST, BlockMotion, decode_block_motion, encode_block_motion, predict,
    _satd_sums, bi_refine, choose_motion, search_motion,
)
from lvcodec.codec.session import PictureMismatch
from lvcodec.errors import CorruptStream
from lvcodec.io import Frame
from lvcodec.weights import load_model

BASE_SUBSTREAMS = {"I": 2, "P": 5, "B": 7}


def _smooth(seed, h=72, w=88):
    """A smooth, non-periodic textured picture: random values every 4 samples, box-blurred."""
    rng = np.random.default_rng(seed)

    def plane(ph, pw, cell):
        p = np.kron(rng.uniform(30, 225, (ph // cell + 2, pw // cell + 2)), np.ones((cell, cell)))
        for axis in (0, 1):
            p = sum(np.roll(p, k, axis) for k in range(cell)) / cell
        return np.clip(p[:ph, :pw], 0, 255).astype(np.uint8)

    return Frame(plane(h, w, 4), plane(h // 2, w // 2, 2), plane(h // 2, w // 2, 2))


def _random_motion(refs, log2=4, rows=3, cols=4, seed=0):
    rng = np.random.default_rng(seed)
    modes = rng.integers(0, 2 if refs == 1 else 4, (rows, cols))
    return BlockMotion(log2, modes, rng.integers(-70, 70, (rows, cols, refs, 2)))


@pytest.mark.parametrize("refs,log2,unit", [(1, 4, bm.QUARTER), (2, 4, bm.QUARTER),
                                            (2, 3, bm.QUARTER), (1, 6, bm.QUARTER),
                                            (2, 4, bm.HALF)])
def test_modes_and_vectors_round_trip(refs, log2, unit):
    h, w = 44, 60  # partial blocks at every size
    size = 1 << log2
    rows, cols = -(-h // size), -(-w // size)
    motion = replace(_random_motion(refs, log2, rows, cols, seed=refs + log2), unit=unit)
    data = encode_block_motion(motion, refs)
    assert data[0] == log2 + 16 * (unit - 1) and len(data) % 4 == 1
    got = decode_block_motion(data, h, w, refs)
    assert got.unit == unit and np.array_equal(got.modes, motion.modes)
    for k in range(refs):  # the vectors a block's mode uses, exactly; the others are not sent
        used = (motion.modes == AVERAGE) | (motion.modes == PAST + k)
        assert np.array_equal(got.vectors[:, :, k][used], motion.vectors[:, :, k][used])
    base, r0, r1 = (_smooth(s, h, w) for s in (1, 2, 3))
    a = predict(motion, base, [r0, r1][:refs])
    b = predict(got, base, [r0, r1][:refs])
    assert all(np.array_equal(p, q) for p, q in zip((a.y, a.u, a.v), (b.y, b.u, b.v)))


def test_half_sample_prediction_copies_displaced_blocks_and_rounds_means_up():
    """The 6.x and 7.x unit: half samples, bilinear."""
    big = _smooth(7, 80, 96)
    base = Frame(*(np.zeros_like(p) for p in (big.y[:32, :48], big.u[:16, :24], big.v[:16, :24])))
    ref = Frame(big.y[:32, :48], big.u[:16, :24], big.v[:16, :24])
    modes = np.array([[BASE, PAST, PAST], [PAST, BASE, BASE]])
    vectors = np.zeros((2, 3, 1, 2), dtype=np.int64)  # half samples
    vectors[0, 1, 0] = (6, -10)   # (3, -5) samples, inside the picture
    vectors[0, 2, 0] = (-18, 80)  # beyond its edges: clamped coordinates
    vectors[1, 0, 0] = (1, 0)     # half a sample down
    p = predict(BlockMotion(4, modes, vectors, bm.HALF), base, [ref])
    assert not p.y[:16, :16].any()
    assert np.array_equal(p.y[:16, 16:32], ref.y[3:19, 11:27])
    yy = np.clip(np.arange(16) - 9, 0, 31)[:, None]
    xx = np.clip(np.arange(32, 48) + 40, 0, 47)[None, :]
    assert np.array_equal(p.y[:16, 32:48], ref.y[yy, xx])
    y = ref.y.astype(int)
    assert np.array_equal(p.y[16:31, :16], (y[16:31, :16] + y[17:32, :16] + 1) >> 1)
    assert np.array_equal(p.y[31, :16], y[31, :16])  # the next row is the clamped last one
    # Chroma: (6, -10) >> 1 = (3, -5) half chroma samples: the mean of four at (1, -3) + (0|1, 0|1).
    u = ref.u.astype(int)
    want = (u[1:9, 5:13] + u[2:10, 5:13] + u[1:9, 6:14] + u[2:10, 6:14] + 2) >> 2
    assert np.array_equal(p.u[:8, 8:16], want)
    # The mean of two references: (a + b + 1) >> 1.
    other = Frame(*(255 - q for q in (ref.y, ref.u, ref.v)))
    zero = np.zeros((2, 3, 2, 2), dtype=np.int64)
    avg = predict(BlockMotion(4, np.full((2, 3), AVERAGE), zero, bm.HALF), base, [ref, other])
    assert np.array_equal(avg.y, (ref.y.astype(int) + other.y + 1) >> 1)
    fut = predict(BlockMotion(4, np.full((2, 3), FUTURE), zero, bm.HALF), base, [ref, other])
    assert np.array_equal(fut.v, other.v)


def test_quarter_sample_prediction_interpolates_with_the_specified_filters():
    """Whole-sample vectors copy; a half-sample one in luma is the 8-tap half filter, and the
    same vector is a quarter chroma sample, the 4-tap filter's phase 2 of 8."""
    big = _smooth(7, 80, 96)
    ref = Frame(big.y[:32, :48], big.u[:16, :24], big.v[:16, :24])
    base = Frame(*(np.zeros_like(p) for p in (ref.y, ref.u, ref.v)))
    vectors = np.zeros((2, 3, 1, 2), dtype=np.int64)  # quarter samples
    vectors[0, 1, 0] = (12, -20)  # (3, -5) samples
    vectors[1, 1, 0] = (0, 2)  # half a sample right
    p = predict(BlockMotion(4, np.full((2, 3), PAST), vectors, bm.QUARTER), base, [ref])
    assert np.array_equal(p.y[:16, 16:32], ref.y[3:19, 11:27])
    y = np.pad(ref.y.astype(int), 4, mode="edge")
    half = sum(t * y[4 + 16:4 + 32, 4 + 16 - 3 + k:4 + 32 - 3 + k]
               for k, t in enumerate((-1, 4, -11, 40, 40, -11, 4, -1)))
    assert np.array_equal(p.y[16:32, 16:32], np.clip((64 * half + 2048) >> 12, 0, 255))
    u = np.pad(ref.u.astype(int), 2, mode="edge")
    quarter = sum(t * u[2 + 8:2 + 16, 2 + 8 - 1 + k:2 + 16 - 1 + k]
                  for k, t in enumerate((-4, 54, 16, -2)))
    assert np.array_equal(p.u[8:16, 8:16], np.clip((64 * quarter + 2048) >> 12, 0, 255))


def test_search_finds_a_translation():
    big = _smooth(3, 120, 160)
    ref = big.y[20:84, 20:116]
    source = big.y[20 - 6: 84 - 6, 20 + 11: 116 + 11]  # source(y, x) = ref(y - 6, x + 11)
    vectors = search_motion(source, ref, 16, radius=32)
    inner = vectors[1:-1, 1:-1].reshape(-1, 2)  # edge blocks see clamped coordinates
    assert (inner == (-24, 44)).all(), inner  # quarter samples


def test_satd_weighs_a_flat_difference_by_its_dc_and_detail_by_its_spread():
    flat = np.full((16, 24), 3)
    assert np.allclose(_satd_sums(flat, 8), 3 * 64 / 8)  # one coefficient: DC = 3 · 64 / √64
    assert np.allclose(_satd_sums(flat, 16)[:, 0], 4 * 24)  # four 8×8 tiles; the edge block
    assert np.allclose(_satd_sums(flat, 16)[:, 1], 2 * 24)  # half outside, zero-padded
    checker = 3 * (-1) ** np.add.outer(np.arange(8), np.arange(8))
    assert np.allclose(_satd_sums(checker, 8), 24)  # one coefficient too, at the top frequency
    assert np.abs(checker).sum() == 192  # where the SAD sees 8x as much


def _shifted(frame, dy, dx):
    """frame displaced by (dy, dx) whole luma samples (chroma half that), edges wrapped."""
    return Frame(np.roll(frame.y, (dy, dx), (0, 1)), np.roll(frame.u, (dy // 2, dx // 2), (0, 1)),
                 np.roll(frame.v, (dy // 2, dx // 2), (0, 1)))


def test_a_mean_of_two_motions_is_found_and_chosen():
    """The source is the mean of two references moved differently: the searched vector of one
    reference is off by a sample, and the jointly refined pair puts it right; the mode decision
    then predicts the inner blocks with that pair's mean."""
    r0, r1 = _smooth(5, 96, 128), _smooth(6, 96, 128)
    p0, p1 = _shifted(r0, -2, 4), _shifted(r1, 4, -2)  # source(y, x) = r0(y + 2, x - 4), ...
    source = Frame(*((a.astype(np.int32) + b + 1 >> 1).astype(np.uint8)
                     for a, b in zip((p0.y, p0.u, p0.v), (p1.y, p1.u, p1.v))))
    rows, cols = 6, 8
    searched = np.zeros((rows, cols, 2, 2), dtype=np.int64)
    searched[:, :, 0] = (8, -16)  # right, in quarter samples
    searched[:, :, 1] = (-16 + 4, 8)  # one sample off vertically
    pairs = bi_refine(source.y, [bm.InterpolatedPlane(r.y, bm.LUMA_8TAP) for r in (r0, r1)], 16,
                      searched)
    assert (pairs[0, 1:-1, 1:-1, 1] == (-16, 8)).all()
    motion, = choose_motion(source, [_smooth(7, 96, 128)], [r0, r1], searched, 4, 1.0, pairs)
    assert (motion.modes[1:-1, 1:-1] == AVERAGE).all()
    pred = predict(motion, source, [r0, r1])
    assert np.array_equal(pred.y[16:-16, 16:-16], source.y[16:-16, 16:-16])


@pytest.mark.parametrize("data,message", [
    (b"", "empty"), (b"\x02\x00\x00\x00\x00", "block size"), (b"\x07", "block size"),
    (b"\x04\x01\x02", "32-bit words"), (b"\x24\x00\x00\x00\x00", "vector unit 3 unknown"),
])
def test_bad_substreams_are_one_line_errors(data, message):
    with pytest.raises(CorruptStream, match=message):
        decode_block_motion(data, 48, 64, 2)


@pytest.mark.parametrize("unit,far", [(bm.HALF, 200), (bm.QUARTER, 300)])
def test_vectors_beyond_range_are_refused(unit, far):
    # Each difference codes, but their sum leaves the unit's range (±255, ±511: 128 samples).
    motion = BlockMotion(4, np.array([[PAST, PAST]]), np.array([[[[0, far]], [[0, 2 * far]]]]), unit)
    with pytest.raises(CorruptStream, match="vector out of range"):
        decode_block_motion(encode_block_motion(motion, 1), 16, 32, 1)


def _units(data):
    return [(h, s) for h, s, _ in LvcReader(io.BytesIO(data)).frames()]


@pytest.fixture()
def moving_clip(tmp_path):
    return synthetic_clip(tmp_path / "moving.y4m", frames=5, seed=4)


@pytest.fixture()
def with_nets(monkeypatch):
    """Frames keep their nets (no motion-only frames), for tests of the layer after them."""
    monkeypatch.setattr(bm, "MOTION_ONLY", False)


def test_b_frames_predict_from_their_references_and_decode_exactly(tiny_models, moving_clip,
                                                                    with_nets):
    model = load_model("lvc-tiny")
    data, coded = encode_frames(model, moving_clip, 63, 1, frames=5, intra_period=32, gop=8)
    extra = [len(s) - BASE_SUBSTREAMS[h.frame_type.name] for h, s in _units(data)]
    assert 2 in extra, extra
    for c, d in zip(coded, decode(model, data, 1)):  # coding order, both
        assert all(np.array_equal(p, q) for p, q in zip((d.y, d.u, d.v),
                                                         (c.recon.y, c.recon.u, c.recon.v)))
    plain, _ = encode_frames(model, moving_clip, 63, 1, frames=5, intra_period=32, gop=8,
                             block_motion=False)
    assert 2 not in [len(s) - BASE_SUBSTREAMS[h.frame_type.name] for h, s in _units(plain)]


def test_a_damaged_prediction_or_a_third_extra_substream_is_refused(tiny_models, moving_clip,
                                                                    with_nets):
    model = load_model("lvc-tiny")
    data, _ = encode_frames(model, moving_clip, 63, 1, frames=5, intra_period=32, gop=8)
    units = _units(data)
    h, s = next((h, s) for h, s in units if len(s) == BASE_SUBSTREAMS[h.frame_type.name] + 2)
    n = BASE_SUBSTREAMS[h.frame_type.name]

    def rewrite(target, substreams):
        return rewrite_frame(data, (target.display_index, target.frame_type), substreams)

    with pytest.raises(CorruptStream, match="substreams"):
        decode(model, rewrite(h, [*s, s[-1]]), 1)
    # Another block size parses, and makes another picture than the frame's hash names.
    other = bytes([s[n][0] ^ 1]) + s[n][1:]
    with pytest.raises((PictureMismatch, CorruptStream)):
        decode(model, rewrite(h, [*s[:n], other, s[n + 1]]), 1)
    # An intra frame has no reference to predict from: two extra substreams are corrupt.
    hi, si = units[0]
    assert hi.frame_type.name == "I"
    with pytest.raises(CorruptStream, match="substreams"):
        decode(model, rewrite(hi, [*si, si[-1], si[-1]]), 1)


@pytest.mark.parametrize("units", [(bm.HALF,), (bm.QUARTER,), (bm.QUARTER, bm.HALF)])
def test_each_frame_names_the_vector_unit_it_was_coded_in_and_decodes_exactly(
        tiny_models, moving_clip, monkeypatch, units):
    """An 8.x encoder may code any frame's vectors in half or quarter samples (the preset's
    vector_units, the cheaper kept); each substream says which, and the decoder follows."""
    from lvcodec.codec.config import PRESETS

    monkeypatch.setitem(PRESETS, "fast", {**PRESETS["fast"], "vector_units": units})
    model = load_model("lvc-tiny")
    data, coded = encode_frames(model, moving_clip, 63, 1, frames=5, intra_period=32, gop=4)
    found = {decode_block_motion(s[len(s) - 2], 64, 96, len(h.refs)).unit
             for h, s in _units(data) if h.frame_type.name != "I"
             and len(s) in (2, BASE_SUBSTREAMS[h.frame_type.name] + 2)}
    assert found and found <= set(units), (found, units)
    for c, d in zip(coded, decode(model, data, 1)):
        assert all(np.array_equal(p, q) for p, q in zip((d.y, d.u, d.v),
                                                         (c.recon.y, c.recon.u, c.recon.v)))


def _motion_only(units):
    return [(h, s) for h, s in units if h.frame_type.name != "I" and len(s) == 2]


def test_motion_only_frames_leave_the_nets_out_and_decode_exactly(tiny_models, moving_clip,
                                                                   tmp_path):
    model = load_model("lvc-tiny")
    data, coded = encode_frames(model, moving_clip, 63, 1, frames=5, intra_period=32, gop=4)
    alone = _motion_only(_units(data))
    assert alone, [len(s) for _, s in _units(data)]
    for c, d in zip(coded, decode(model, data, 1)):
        assert all(np.array_equal(p, q) for p, q in zip((d.y, d.u, d.v),
                                                         (c.recon.y, c.recon.u, c.recon.v)))
    # Their blocks predict from the references only; lvc info names them.
    h, s = alone[0]
    assert decode_block_motion(s[0], 64, 96, len(h.refs)).modes.all()
    path = tmp_path / "s.lvc"
    path.write_bytes(data)
    frames = {f["display_index"]: f for f in describe(path)["frames"]}
    assert frames[h.display_index]["motion_only"]
    assert [x["layer"] for x in frames[h.display_index]["layers"]] == ["block_motion", "residual"]


@pytest.mark.parametrize("distance, tried", [(None, ()), (2, (2,)), (1, (2, 1, 3))])
def test_b_frames_try_the_b_net_only_from_the_presets_reference_distance(
        tiny_models, moving_clip, monkeypatch, distance, tried):
    from lvcodec.codec.config import PRESETS
    from lvcodec.codec.frame_coder import BiCoder

    monkeypatch.setitem(PRESETS["fast"], "b_net_distance", distance)
    calls = []
    real = BiCoder.encode
    monkeypatch.setattr(BiCoder, "encode", lambda self, *a: calls.append(1) or real(self, *a))
    model = load_model("lvc-tiny")
    data, coded = encode_frames(model, moving_clip, 63, 1, frames=5, intra_period=32, gop=4)
    b = {h.display_index: s for h, s in _units(data) if h.frame_type.name == "B"}
    assert sorted(b) == [1, 2, 3]  # GOP 4: frame 2 two frames from its references, 1 and 3 one
    assert len(calls) == len(tried)  # the B net runs only where the preset tries it
    assert all(len(s) == 2 for i, s in b.items() if i not in tried)  # block motion + residual
    for c, d in zip(coded, decode(model, data, 1)):
        assert all(np.array_equal(p, q) for p, q in zip((d.y, d.u, d.v),
                                                         (c.recon.y, c.recon.u, c.recon.v)))


def test_a_motion_only_frame_using_the_nets_picture_or_at_half_scale_is_refused(
        tiny_models, make_model, moving_clip):
    make_model(tiny_models, name="lvc-ds", enhance=True)
    model = load_model("lvc-ds")
    data, _ = encode_frames(model, moving_clip, 63, 1, frames=5, intra_period=32, gop=4)
    b = [(h, s) for h, s in _motion_only(_units(data)) if h.frame_type.name == "B"]
    assert b
    h, s = b[0]
    motion = decode_block_motion(s[0], 64, 96, 2)
    motion.modes[0, 0] = BASE
    bad = rewrite_frame(data, (h.display_index, h.frame_type),
                        [encode_block_motion(motion, 2), s[1]])
    with pytest.raises(CorruptStream, match="uses the nets' picture"):
        decode(model, bad, 1)
    # The same frame marked half scale: half-scale frames always carry their nets.
    reader = LvcReader(io.BytesIO(data))
    buf = io.BytesIO()
    w = LvcWriter(buf)
    w.write_sequence_header(reader.sequence_header)
    for hh, ss, _ in reader.frames():
        w.write_frame(replace(hh, scale_log2=1) if hh == h else hh, ss)
    w.close()
    with pytest.raises(CorruptStream, match="half-scale frame without its nets"):
        decode(model, buf.getvalue(), 1)


BANKS = {"bilinear": bm.BILINEAR, "luma 8-tap": bm.LUMA_8TAP, "chroma 4-tap": bm.CHROMA_4TAP}


@pytest.mark.parametrize("bank", BANKS)
@pytest.mark.parametrize("size", [4, 8, 16])
def test_the_encoders_block_cut_is_the_decoders_displacement(size, bank):
    """choose_motion's per-block fast path (_displaced_block, from edge-extended planes) makes
    the samples predict()'s _displaced makes, edges and fractions included."""
    plane, taps = _smooth(3, 40, 56).y, BANKS[bank]
    padded = np.pad(plane.astype(np.int32), bm.MARGIN, mode="edge")
    rng = np.random.default_rng(size)
    limit = 128 * len(taps)  # 128 samples
    for _ in range(40):
        v = rng.integers(-limit + 1, limit, 2)
        r, c = rng.integers(0, 40 // size), rng.integers(0, 56 // size)
        whole = bm._displaced(plane, size, np.broadcast_to(v, (40 // size, 56 // size, 2)), taps)
        assert np.array_equal(bm._displaced_block(padded, r * size, c * size, size, v, taps),
                              whole[r * size:(r + 1) * size, c * size:(c + 1) * size])


@pytest.mark.parametrize("bank", BANKS)
def test_the_searchs_interpolated_planes_give_the_decoders_displacement(bank):
    """InterpolatedPlane (every phase of a plane made once, then gathers) makes the samples of
    _displaced, for vectors across the search's range and edge blocks."""
    taps = BANKS[bank]
    rng = np.random.default_rng(len(taps))
    for _ in range(4):
        h, w = (int(t) for t in rng.integers(5, 70, 2))
        size = int(rng.choice([4, 8, 16]))
        vectors = rng.integers(-60 * len(taps), 60 * len(taps) + 1, (-(-h // size), -(-w // size), 2))
        plane = rng.integers(0, 256, (h, w)).astype(np.uint8)
        assert np.array_equal(bm.InterpolatedPlane(plane, taps).displaced(size, vectors),
                              bm._displaced(plane, size, vectors, taps))


def _clamped_displacement(plane, size, vectors, taps):
    """docs/bitstream.md §4.8's displacement, sample by sample: per output sample, the taps of
    the vector's fractions across (each row of the window), then down, over coordinates clamped
    to the plane; rounded once, clipped to 8 bits."""
    h, w = plane.shape
    phases, n = taps.shape
    frac = phases.bit_length() - 1
    shift = 2 * (int(taps[0].sum()).bit_length() - 1)
    out = np.zeros((vectors.shape[0] * size, vectors.shape[1] * size), dtype=np.int64)
    for oy in range(out.shape[0]):
        for ox in range(out.shape[1]):
            vy, vx = (int(t) for t in vectors[oy // size, ox // size])
            y, x = oy + (vy >> frac), ox + (vx >> frac)
            fy, fx = taps[vy & (phases - 1)], taps[vx & (phases - 1)]
            total = 0
            for i in range(n):
                a = min(max(y + i - n // 2 + 1, 0), h - 1)
                row = sum(int(fx[j]) * int(plane[a, min(max(x + j - n // 2 + 1, 0), w - 1)])
                          for j in range(n))
                total += int(fy[i]) * row
            out[oy, ox] = min(max((total + (1 << (shift - 1))) >> shift, 0), 255)
    return out


@pytest.mark.parametrize("bank", BANKS)
@pytest.mark.parametrize("seed", range(4))
def test_displacement_is_the_specified_clamped_interpolation(seed, bank):
    """_displaced (flat gathers from a padded plane) makes the samples of the specification's
    per-sample clamping, vectors far outside the plane and odd plane sizes included."""
    rng = np.random.default_rng(seed)
    taps = BANKS[bank]
    h, w = (int(t) for t in rng.integers(1, 30, 2))
    size = int(rng.choice([4, 8, 16]))
    vectors = rng.integers(-40 * len(taps), 40 * len(taps) + 1, (-(-h // size), -(-w // size), 2))
    plane = rng.integers(0, 256, (h, w)).astype(np.uint8)
    assert np.array_equal(bm._displaced(plane, size, vectors, taps),
                          _clamped_displacement(plane, size, vectors, taps))


def _coarse_search_by_shift(source, ref, size, radius=60, coarse=4):
    """coarse_search as its docstring says it, one shift after another on the float means."""
    def means(p):
        h, w = p.shape
        e = np.pad(p.astype(np.int32), ((0, -h % coarse), (0, -w % coarse)), mode="edge")
        return e.reshape(e.shape[0] // coarse, coarse, e.shape[1] // coarse, coarse).mean(axis=(1, 3))

    rows, cols = -(-source.shape[0] // size), -(-source.shape[1] // size)
    s4, r4 = means(source), means(ref)
    b4, R = max(size // coarse, 1), radius // coarse
    pad = np.pad(r4, R, mode="edge")
    best, vec = np.full((rows, cols), np.inf), np.zeros((rows, cols, 2), dtype=np.int64)
    for dy in range(-R, R + 1):
        for dx in range(-R, R + 1):
            d = np.abs(s4 - pad[R + dy: R + dy + s4.shape[0], R + dx: R + dx + s4.shape[1]])
            d = np.pad(d, ((0, rows * b4 - d.shape[0]), (0, cols * b4 - d.shape[1])))
            sad = np.pad(d.reshape(rows, b4, cols, b4).sum(axis=(1, 3)), 1, mode="edge")
            sad = sum(sad[i: i + rows, j: j + cols] for i in range(3) for j in range(3))
            sad = sad + 1e-3 * (abs(dy) + abs(dx))
            better = sad < best
            best = np.where(better, sad, best)
            vec[better] = (dy * coarse, dx * coarse)
    return vec


@pytest.mark.parametrize("size", [8, 16])
@pytest.mark.parametrize("shape", [(72, 88), (45, 61)])
def test_the_coarse_search_keeps_the_first_least_sad_shift(size, shape):
    """The encoder's row-at-a-time integer search picks what a scan of every shift on the
    means would, ties included (flat pictures tie everywhere)."""
    src = _smooth(3, *shape).y
    ref = np.roll(_smooth(3, *shape).y, (5, -9), (0, 1))
    flat = np.full(shape, 9, np.uint8)
    for s, r in ((src, ref), (ref, src), (flat, flat), (src, flat)):
        assert np.array_equal(bm.coarse_search(s, r, size, radius=20),
                              _coarse_search_by_shift(s, r, size, radius=20))
