"""Temporal down-sampling: half-scale B frames, restored by the enhancement net, decode bit-exactly
at full resolution; `auto` keeps the cheaper of the two codings of each GOP; bad uses refused."""

import dataclasses
import io

import pytest
import torch

from codec_helpers import assert_identical, decode, encode, headers_and_sizes
from lvcodec.bitstream import FrameType, LvcReader
from lvcodec.codec.api import encode_stream
from lvcodec.codec.session import Decoder, Encoder, EncoderConfig, _rd_cost
from lvcodec.errors import ConfigError, CorruptStream
from lvcodec.io import VideoInfo, open_reader
from lvcodec.weights import load_model


@pytest.fixture()
def enhance_model(tmp_path, monkeypatch, make_model):
    make_model(tmp_path / "models", name="lvc-ds", enhance=True)
    monkeypatch.setenv("LVC_MODELS", str(tmp_path / "models"))
    return load_model("lvc-ds")


@pytest.mark.parametrize("width,height", [(96, 64), (90, 62)])  # 90x62: odd packed half sides
def test_half_scale_b_frames_decode_bit_exactly_at_full_resolution(enhance_model, make_clip,
                                                                   tmp_path, width, height):
    clip = make_clip(tmp_path / "m.y4m", width=width, height=height, frames=9)
    data, recons, _ = encode(enhance_model, clip, 30, threads=2, gop=4, downsample="on")
    headers = [h for h, _ in headers_and_sizes(data)]
    assert [h.scale_log2 for h in headers] == [0 if h.frame_type != FrameType.B else 1
                                               for h in headers]
    assert {h.frame_type for h in headers} == {FrameType.I, FrameType.P, FrameType.B}
    for threads in (1, 3):
        decoded = decode(enhance_model, data, threads=threads)
        assert all(f.y.shape == (height, width) for f in decoded)
        assert_identical(recons, decoded)


def test_half_scale_b_frames_cost_fewer_bits_than_full_scale_ones(enhance_model, make_clip,
                                                                 tmp_path):
    clip = make_clip(tmp_path / "m.y4m", frames=5)
    sizes = {}
    for mode in ("off", "on"):  # the nets' bits: a residual layer would make up the lost detail
        data = encode(enhance_model, clip, 30, threads=2, gop=4, downsample=mode, residual=False)[0]
        sizes[mode] = sum(s for h, s in headers_and_sizes(data) if h.frame_type == FrameType.B)
    assert sizes["on"] < sizes["off"]


def test_auto_keeps_the_cheaper_coding_of_each_gop(enhance_model, make_clip, tmp_path):
    clip = make_clip(tmp_path / "m.y4m", frames=5)  # one GOP of B frames after the I frame
    with open_reader(clip) as r:
        frames, info = list(r), r.info
    coded = {}
    for mode in ("off", "on"):
        config = EncoderConfig(quality=30, intra_period=32, gop=4, downsample=mode, preset="fast")
        coded[mode] = encode_stream(enhance_model, frames, info, config, torch.device("cpu"))[1]
    enc = Encoder(enhance_model, EncoderConfig(quality=30, intra_period=32, gop=4, downsample="auto",
                                               preset="fast"), info, torch.device("cpu"))
    alternatives = []
    enc.on_alternatives = lambda full, half: alternatives.append((full, half))
    auto = list(enc.code(frames))
    # The two codings auto weighs are the off and on encodes' B frames, byte for byte (what
    # bench_downsampling relies on to measure the three modes from one encode).
    (full, half), = alternatives
    b_units = {mode: [c.substreams for c in coded[mode] if c.header.frame_type == FrameType.B]
               for mode in coded}
    assert [c.substreams for c in full] == b_units["off"]
    assert [c.substreams for c in half] == b_units["on"]
    costs = {mode: _rd_cost([c for c in coded[mode] if c.header.frame_type == FrameType.B],
                            enhance_model.lambda_range)
             for mode in ("off", "on")}
    chosen = min(costs, key=costs.get)
    assert [c.substreams for c in auto] == [c.substreams for c in coded[chosen]]
    # ... and whichever it chose, it decodes to the encoder's pictures.
    data = encode(enhance_model, clip, 30, threads=2, gop=4, downsample="auto")[0]
    assert_identical([c.recon for c in auto], decode(enhance_model, data, threads=1))


def test_auto_decides_each_gop_on_its_own(enhance_model, make_clip, tmp_path, monkeypatch):
    """With the cost forced to favour half scale in the second GOP only, the stream mixes both."""
    from lvcodec.codec import session

    calls = []
    real = session._rd_cost

    def biased(frames, lambda_range):
        calls.append(len(calls))
        cost = real(frames, lambda_range)
        half = frames[0].header.scale_log2 == 1
        second_gop = frames[0].header.display_index > 4
        return cost - 1e6 if half and second_gop else cost + (1e6 if half else 0)

    monkeypatch.setattr(session, "_rd_cost", biased)
    clip = make_clip(tmp_path / "m.y4m", frames=9)
    data = encode(enhance_model, clip, 30, threads=2, gop=4, downsample="auto")[0]
    scales = {h.display_index: h.scale_log2 for h, _ in headers_and_sizes(data)}
    assert [scales[i] for i in (1, 2, 3)] == [0, 0, 0] and [scales[i] for i in (5, 6, 7)] == [1, 1, 1]
    assert_identical(encode(enhance_model, clip, 30, 2, gop=4, downsample="auto")[1],
                     decode(enhance_model, data, threads=1))


def test_down_sampling_is_refused_where_it_cannot_apply(enhance_model, tiny_models):
    info, cpu = VideoInfo(96, 64, 25, 1), torch.device("cpu")
    with pytest.raises(ConfigError, match="random access"):
        Encoder(enhance_model, EncoderConfig(gop=1, downsample="on"), info, cpu)
    with pytest.raises(ConfigError, match="unknown"):
        EncoderConfig(gop=4, downsample="half").validate()
    with pytest.raises(ConfigError, match="no enhancement net"):
        Encoder(load_model("lvc-tiny"), EncoderConfig(gop=4, downsample="on"), info, cpu)
    # auto has nothing to choose without an enhancement net (or without B frames): full scale.
    Encoder(load_model("lvc-tiny"), EncoderConfig(gop=4, downsample="auto"), info, cpu)


def test_a_decoder_refuses_half_scale_frames_it_cannot_restore(enhance_model, tiny_models,
                                                              make_clip, tmp_path):
    clip = make_clip(tmp_path / "m.y4m", frames=3)
    data = encode(enhance_model, clip, 30, threads=2, gop=2, downsample="on")[0]
    reader = LvcReader(io.BytesIO(data))
    units = list(reader.frames())
    plain = load_model("lvc-tiny")  # the same nets but no enhancement net
    seq = dataclasses.replace(reader.sequence_header, model_name=plain.name,
                              model_sha256=bytes.fromhex(plain.sha256))
    dec = Decoder(plain, seq, torch.device("cpu"))
    for h, s, _ in units[:2]:
        dec.decode(h, s)
    with pytest.raises(CorruptStream, match="no enhancement net"):
        dec.decode(*units[2][:2])
    # Only B frames may be half scale: an I frame that says so is damage.
    dec = Decoder(enhance_model, reader.sequence_header, torch.device("cpu"))
    h, s, _ = units[0]
    with pytest.raises(CorruptStream, match="only B frames"):
        dec.decode(dataclasses.replace(h, scale_log2=1), s)
