"""Low-delay P coding: GOP structure, DPB parity over intra periods, concealment, model checks."""

import io

import pytest
import torch

from codec_helpers import assert_identical, decode, encode
from lvcodec.bitstream import FrameType, LvcReader
from lvcodec.codec.gop import plan_low_delay
from lvcodec.codec.session import Decoder, Encoder, EncoderConfig
from lvcodec.errors import ConfigError, CorruptStream
from lvcodec.io import VideoInfo
from lvcodec.weights import load_model


def _headers(data):
    return [h for h, _, _ in LvcReader(io.BytesIO(data)).frames()]


def test_plan_places_i_frames_every_intra_period_and_p_frames_on_the_previous_frame():
    plan = [plan_low_delay(i, 4) for i in range(10)]
    assert [p.frame_type for p in plan] == [FrameType.I, *[FrameType.P] * 3] * 2 + [FrameType.I,
                                                                                    FrameType.P]
    assert [p.refs for p in plan][:3] == [(), (0,), (1,)]
    only_first = [plan_low_delay(i, 0).frame_type for i in range(40)]
    assert only_first.count(FrameType.I) == 1


@pytest.mark.parametrize("intra_period", [3, -1])
def test_p_frames_decode_bit_exactly_across_intra_periods(tiny_models, make_clip, tmp_path,
                                                         intra_period):
    clip = make_clip(tmp_path / "m.y4m", frames=7)
    model = load_model("lvc-tiny")
    data, recons, _ = encode(model, clip, 40, threads=2, intra_period=intra_period)
    headers = _headers(data)
    expected_i = [0, 3, 6] if intra_period == 3 else [0]
    assert [h.display_index for h in headers if h.frame_type == FrameType.I] == expected_i
    assert all(h.refs == (h.display_index - 1,) for h in headers if h.frame_type == FrameType.P)
    for threads in (1, 3):
        assert_identical(recons, decode(model, data, threads=threads))


def test_sequence_header_says_low_delay_and_the_intra_period(tiny_models, clip):
    data = encode(load_model("lvc-tiny"), clip, 20, threads=2, intra_period=-1)[0]
    seq = LvcReader(io.BytesIO(data)).sequence_header
    assert seq.coding_structure.name == "LOW_DELAY" and seq.intra_period == 0


def test_a_model_without_a_p_frame_net_codes_all_intra_only(tmp_path, monkeypatch, make_model, clip):
    make_model(tmp_path, name="lvc-intra-only", inter=False)
    monkeypatch.setenv("LVC_MODELS", str(tmp_path))
    model = load_model("lvc-intra-only")
    info = VideoInfo(96, 64, 25, 1)
    with pytest.raises(ConfigError, match="--intra-period 1"):
        Encoder(model, EncoderConfig(intra_period=32, gop=1), info, torch.device("cpu"))
    assert all(h.frame_type == FrameType.I for h in _headers(encode(model, clip, 20, 2, intra_period=1)[0]))


def test_a_p_frame_whose_reference_is_lost_is_refused(tiny_models, clip):
    model = load_model("lvc-tiny")
    data = encode(model, clip, 20, threads=2)[0]
    reader = LvcReader(io.BytesIO(data))
    units = list(reader.frames())
    dec = Decoder(model, reader.sequence_header, torch.device("cpu"))
    with pytest.raises(CorruptStream, match="reference, frame 1"):
        dec.decode(units[2][0], units[2][1])  # frame 2 without frames 0 and 1


def test_conceal_repeats_the_last_good_picture_until_the_next_i_frame(tiny_models, make_clip,
                                                                     tmp_path):
    from lvcodec.codec.api import decode_frames

    clip = make_clip(tmp_path / "m.y4m", frames=8)
    model = load_model("lvc-tiny")
    data, recons, _ = encode(model, clip, 40, threads=2, intra_period=4)
    # Damage the payload of frame 1 (a P frame): frames 1-3 depend on it, frame 4 is an I frame.
    index = LvcReader(io.BytesIO(data)).read_index()
    start = next(offset for offset, display, _ in index if display == 1)
    damaged = bytearray(data)
    damaged[start + 20] ^= 0xFF  # the CRC catches it
    warnings = []
    reader = LvcReader(io.BytesIO(bytes(damaged)))
    dec = Decoder(model, reader.sequence_header, torch.device("cpu"))
    out = list(decode_frames(reader, dec, "conceal", warn=warnings.append))
    assert len(out) == 8 and warnings
    assert [c for _, c in out] == [False, True, True, True, False, False, False, False]
    assert_identical([recons[0]] * 4, [f for f, _ in out[:4]])  # concealed from frame 0
    assert_identical(recons[4:], [f for f, _ in out[4:]])


def test_decoding_from_an_i_frame_on_gives_the_same_pictures_as_decoding_from_the_start(
        tiny_models, make_clip, tmp_path):
    """Random access: a fresh decoder that starts at the second intra period (no state from the
    first) reproduces the encoder's pictures exactly — nothing leaks across an I frame."""
    clip = make_clip(tmp_path / "m.y4m", frames=7)
    model = load_model("lvc-tiny")
    data, recons, _ = encode(model, clip, 40, threads=2, intra_period=3)
    reader = LvcReader(io.BytesIO(data))
    units = [(h, s) for h, s, _ in reader.frames()]
    torch.set_num_threads(1)
    dec = Decoder(model, reader.sequence_header, torch.device("cpu"))
    assert_identical(recons[3:], [dec.decode(h, s) for h, s in units[3:]])
