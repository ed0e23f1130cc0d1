"""Random access: the B hierarchy's plan, bit-exact decoding, display order, DPB bound, damage."""

import io

import numpy as np
import pytest
import torch

from codec_helpers import assert_identical, decode, encode, encode_frames
from lvcodec.bitstream import FrameType, LvcReader
from lvcodec.codec import session
from lvcodec.codec.api import decode_frames
from lvcodec.codec.gop import layer_quality, next_anchor, plan_gop
from lvcodec.codec.session import Decoder, Encoder, EncoderConfig
from lvcodec.errors import ConfigError, CorruptStream
from lvcodec.io import VideoInfo
from lvcodec.weights import load_model


def _plan(n, gop, intra_period):
    """The whole coding order of n frames, as the encoder makes it (last frame ends a GOP)."""
    out, anchor = [], None
    while anchor is None or anchor < n - 1:
        nxt = 0 if anchor is None else min(next_anchor(anchor, gop, intra_period), n - 1)
        out += plan_gop(anchor, nxt, intra_period)
        anchor = nxt
    return out


def test_gop_8_plan_is_the_dyadic_hierarchy_in_coding_order():
    plan = _plan(17, 8, 16)
    assert [p.display_index for p in plan] == [0, 8, 4, 2, 1, 3, 6, 5, 7, 16, 12, 10, 9, 11, 14, 13, 15]
    assert [p.frame_type.name for p in plan[:3]] == ["I", "P", "B"]
    assert plan[9].frame_type == FrameType.I  # the intra period puts an I frame at 16
    by_index = {p.display_index: p for p in plan}
    assert by_index[8].refs == (0,) and by_index[4].refs == (0, 8) and by_index[5].refs == (4, 6)
    assert [by_index[i].temporal_layer for i in range(9)] == [0, 3, 2, 3, 1, 3, 2, 3, 0]
    # every reference is coded before the frame that uses it
    seen = set()
    for p in plan:
        assert set(p.refs) <= seen
        seen.add(p.display_index)


def test_short_last_gop_and_intra_period_shorter_than_the_gop():
    plan = _plan(13, 8, 32)  # 0..8, then a last GOP of 4 frames anchored on frame 12
    assert sorted(p.display_index for p in plan) == list(range(13))
    assert {p.display_index: p for p in plan}[12].refs == (8,)
    assert [p.display_index for p in _plan(9, 16, 4) if p.frame_type == FrameType.I] == [0, 4, 8]


def test_layer_quality_lowers_q_by_layer_and_stops_at_zero():
    assert layer_quality(32, 0) == 32 and layer_quality(32, 1) < 32 and layer_quality(2, 3) == 0


@pytest.mark.parametrize("gop,intra_period,frames", [(4, 8, 11), (8, -1, 9)])
def test_b_frames_decode_bit_exactly_across_threads(tiny_models, make_clip, tmp_path, gop,
                                                   intra_period, frames):
    clip = make_clip(tmp_path / "m.y4m", frames=frames)
    model = load_model("lvc-tiny")
    data, recons, _ = encode(model, clip, 40, threads=2, intra_period=intra_period, gop=gop)
    kinds = [h.frame_type for h, _, _ in LvcReader(io.BytesIO(data)).frames()]
    assert FrameType.B in kinds
    for threads in (1, 3):
        assert_identical(recons, decode(model, data, threads=threads))


def test_decoded_file_comes_out_in_display_order(tiny_models, make_clip, tmp_path):
    clip = make_clip(tmp_path / "m.y4m", frames=10)
    model = load_model("lvc-tiny")
    data, recons, sources = encode(model, clip, 40, threads=2, gop=4)
    reader = LvcReader(io.BytesIO(data))
    order = [h.display_index for h, _, _ in LvcReader(io.BytesIO(data)).frames()]
    assert order != sorted(order)
    shown = list(decode_frames(reader, Decoder(model, reader.sequence_header, torch.device("cpu"))))
    by_display = [recons[order.index(i)] for i in range(10)]
    assert not any(concealed for _, concealed in shown)
    assert_identical(by_display, [f for f, _ in shown])


def test_dpb_holds_at_most_two_anchors_plus_one_picture_per_b_layer(tiny_models, make_clip,
                                                                    tmp_path, monkeypatch):
    sizes = []
    put = session._DecodedPictures.put

    def spy(self, index, layer, ref, picture, enhanced=False):
        put(self, index, layer, ref, picture, enhanced)
        sizes.append(len(self.pictures))

    monkeypatch.setattr(session._DecodedPictures, "put", spy)
    clip = make_clip(tmp_path / "m.y4m", width=64, height=64, frames=17)
    encode(load_model("lvc-tiny"), clip, 40, threads=2, intra_period=-1, gop=16)
    assert max(sizes) == 2 + 4  # GOP 16: four B layers


def test_sequence_header_says_random_access_and_the_gop(tiny_models, make_clip, tmp_path):
    clip = make_clip(tmp_path / "m.y4m", frames=5)
    seq = LvcReader(io.BytesIO(encode(load_model("lvc-tiny"), clip, 20, 2, gop=4)[0])).sequence_header
    assert seq.coding_structure.name == "RANDOM_ACCESS" and seq.gop_size == 4


def test_a_model_without_a_b_frame_net_refuses_random_access(tmp_path, monkeypatch, make_model, clip):
    make_model(tmp_path, name="lvc-p-only", bi=False)
    monkeypatch.setenv("LVC_MODELS", str(tmp_path))
    model = load_model("lvc-p-only")
    with pytest.raises(ConfigError, match="--structure ldp"):
        Encoder(model, EncoderConfig(gop=8), VideoInfo(96, 64, 25, 1), torch.device("cpu"))


def _damage_frame(data: bytes, display: int) -> bytes:
    index = LvcReader(io.BytesIO(data)).read_index()
    start = next(offset for offset, d, _ in index if d == display)
    damaged = bytearray(data)
    for k in range(start + 30, start + 60):
        damaged[k] ^= 0x5A
    return bytes(damaged)


def test_conceal_a_damaged_b_frame_and_its_dependants_only(tiny_models, make_clip, tmp_path):
    clip = make_clip(tmp_path / "m.y4m", frames=9)
    model = load_model("lvc-tiny")
    data, recons, _ = encode(model, clip, 40, threads=2, gop=8)
    order = [h.display_index for h, _, _ in LvcReader(io.BytesIO(data)).frames()]
    damaged = _damage_frame(data, 4)  # layer 1: frames 1-3 and 5-7 reference it, 0 and 8 do not
    reader = LvcReader(io.BytesIO(damaged))
    warnings = []
    shown = list(decode_frames(reader, Decoder(model, reader.sequence_header, torch.device("cpu")),
                               "conceal", warnings.append))
    assert len(shown) == 9 and warnings
    assert [c for _, c in shown] == [False] + [True] * 7 + [False]
    for i in (0, 8):
        assert np.array_equal(shown[i][0].y, recons[order.index(i)].y)
    reader = LvcReader(io.BytesIO(damaged))
    with pytest.raises(CorruptStream):
        list(decode_frames(reader, Decoder(model, reader.sequence_header, torch.device("cpu"))))


def test_a_lost_b_frame_unit_is_concealed_in_display_order(tiny_models, make_clip, tmp_path):
    """Cut a top-layer B frame's unit out of the file: the decoder fills its place."""
    clip = make_clip(tmp_path / "m.y4m", frames=9)
    model = load_model("lvc-tiny")
    data, recons, _ = encode(model, clip, 40, threads=2, gop=8)
    index = LvcReader(io.BytesIO(data)).read_index()
    offsets = sorted(o for o, _, _ in index)
    start = next(o for o, d, _ in index if d == 7)  # coded last: a leaf of the hierarchy
    end = offsets[offsets.index(start) + 1] if start != offsets[-1] else len(data)
    cut = data[:start] + data[end:]
    reader = LvcReader(io.BytesIO(cut))
    shown = list(decode_frames(reader, Decoder(model, reader.sequence_header, torch.device("cpu")),
                               "conceal", lambda m: None))
    assert len(shown) == 9 and [i for i, (_, c) in enumerate(shown) if c] == [7]


@pytest.mark.parametrize("cheaper", [FrameType.I, FrameType.P])
def test_a_p_anchor_is_coded_as_an_i_frame_where_that_costs_less(tiny_models, make_clip, tmp_path,
                                                                  monkeypatch, cheaper):
    """Each P anchor is coded both ways from the same decoded pictures and the cheaper kept (here
    made cheaper by a bias on the cost); the B frames then predict from the anchor kept, and the
    stream decodes bit-exactly either way."""
    real = session._frame_cost
    monkeypatch.setattr(session, "_frame_cost", lambda f, lam: real(f, lam) + (
        0.0 if f.header.frame_type == cheaper else 1e6))
    model = load_model("lvc-tiny")
    data, coded = encode_frames(model, make_clip(tmp_path / "c.y4m", frames=5), 32, 1, gop=2)
    by_index = {c.header.display_index: c.header for c in coded}
    assert by_index[0].frame_type == FrameType.I
    for anchor, prev in ((2, 0), (4, 2)):
        assert by_index[anchor].frame_type == cheaper and by_index[anchor].temporal_layer == 0
        assert by_index[anchor].refs == (() if cheaper == FrameType.I else (prev,))
    assert by_index[1].refs == (0, 2) and by_index[3].refs == (2, 4)
    assert_identical([c.recon for c in coded], decode(model, data, threads=1))
