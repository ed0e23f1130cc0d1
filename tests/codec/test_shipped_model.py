"""The shipped model: loads by name through its card, codes a real clip, decodes bit-exactly."""

from pathlib import Path

import numpy as np
import pytest

from codec_helpers import (FOREIGN_KERNELS, assert_identical, decode, encode,
                           headers_and_sizes, run_lvc)
from lvcodec.eval.metrics import frame_psnr
from lvcodec.weights import DEFAULT_MODEL, load_model, models_dir

DEMO = Path(__file__).resolve().parents[2] / "data" / "demo_bbb_320x180.mp4"


def _code(model, quality, frames=2):
    """(bpp, mean PSNR-YUV) of the demo clip, after checking the decoder reproduces the encoder."""
    data, recons, sources = encode(model, DEMO, quality, threads=2, frames=frames)
    assert_identical(recons, decode(model, data, threads=1))
    pixels = sources[0].width * sources[0].height * len(sources)
    return len(data) * 8 / pixels, float(np.mean([frame_psnr(f, r)["yuv"] for f, r in zip(sources, recons)]))


def test_shipped_model_is_trained_and_pinned(monkeypatch):
    monkeypatch.delenv("LVC_MODELS", raising=False)
    card = (models_dir() / f"{DEFAULT_MODEL}.json")
    assert card.exists(), "models/lvc-base.json is missing"
    model = load_model(DEFAULT_MODEL)  # raises if the weights' sha256 differs from the card
    assert model.card["training"]["steps"] > 0


def test_shipped_model_codes_a_real_clip_with_rate_control_by_quality(monkeypatch):
    monkeypatch.delenv("LVC_MODELS", raising=False)
    model = load_model(DEFAULT_MODEL)
    points = [_code(model, q) for q in (8, 32, 56)]
    bpps, psnrs = zip(*points)
    assert bpps[0] < bpps[1] < bpps[2]
    assert psnrs[0] < psnrs[1] < psnrs[2]
    # Far from exact figures (those live in benchmarks/): a floor that only a working codec clears.
    assert psnrs[1] > 27.0 and bpps[1] < 1.0


def _ping_pong_clip(path, frames: int):
    """`frames` frames of the demo clip, half size, played forwards and backwards (real motion)."""
    from lvcodec.io import Frame, VideoInfo, open_reader, open_writer

    with open_reader(DEMO) as r:
        src = [Frame(_half(f.y), _half(f.u), _half(f.v)) for f in r]
    order = src + src[-2:0:-1]
    with open_writer(path, VideoInfo(src[0].width, src[0].height, 25, 1, frames)) as w:
        for i in range(frames):
            w.write(order[i % len(order)])
    return path


def _half(p):
    return ((p[0::2, 0::2].astype(np.uint16) + p[1::2, 0::2] + p[0::2, 1::2] + p[1::2, 1::2] + 2)
            // 4).astype(np.uint8)


def test_shipped_model_decodes_two_intra_periods_bit_exactly(monkeypatch, tmp_path):
    """64 frames, I every 32: the P frames' references, features and entropy parameters stay in
    step between an encoder on 2 threads and a decoder on 1, and P frames cost less than I."""
    from lvcodec.bitstream import FrameType

    monkeypatch.delenv("LVC_MODELS", raising=False)
    model = load_model(DEFAULT_MODEL)
    clip = _ping_pong_clip(tmp_path / "pingpong.y4m", 64)
    data, recons, sources = encode(model, clip, 32, threads=2, intra_period=32)
    assert_identical(recons, decode(model, data, threads=1))
    frames = headers_and_sizes(data)
    assert [h.display_index for h, _ in frames if h.frame_type == FrameType.I] == [0, 32]
    i_bytes = np.mean([s for h, s in frames if h.frame_type == FrameType.I])
    p_bytes = np.mean([s for h, s in frames if h.frame_type == FrameType.P])
    assert p_bytes < i_bytes
    psnr = [frame_psnr(f, r)["yuv"] for f, r in zip(sources, recons)]
    assert min(psnr) > 25.0  # no frame falls apart over the period


def test_shipped_model_decodes_a_33_frame_random_access_clip_bit_exactly(monkeypatch, tmp_path):
    """I 0, B hierarchy, I 32 (GOP 16: P 16): encoder on 2 threads, decoder on 1, and the decoder's
    output in display order; B frames cost less than the I frames."""
    import io

    import torch

    from lvcodec.bitstream import FrameType, LvcReader
    from lvcodec.codec.api import decode_frames
    from lvcodec.codec.session import Decoder

    monkeypatch.delenv("LVC_MODELS", raising=False)
    model = load_model(DEFAULT_MODEL)
    assert model.bi is not None, "the shipped model has no B-frame net"
    clip = _ping_pong_clip(tmp_path / "pingpong.y4m", 33)
    data, recons, sources = encode(model, clip, 32, threads=2, intra_period=32, gop=16)
    torch.set_num_threads(1)
    reader = LvcReader(io.BytesIO(data))
    shown = list(decode_frames(reader, Decoder(model, reader.sequence_header, torch.device("cpu"))))
    order = [h.display_index for h, _ in headers_and_sizes(data)]
    assert order[:3] == [0, 16, 8] and sorted(order) == list(range(33))
    assert_identical([recons[order.index(i)] for i in range(33)], [f for f, _ in shown])
    frames = headers_and_sizes(data)
    i_bytes = np.mean([s for h, s in frames if h.frame_type == FrameType.I])
    b_bytes = np.mean([s for h, s in frames if h.frame_type == FrameType.B])
    assert b_bytes < i_bytes
    assert min(frame_psnr(f, r)["yuv"] for f, r in zip(sources, recons)) > 25.0


@pytest.mark.slow
def test_shipped_model_half_scale_random_access_decodes_the_same_with_other_kernels(monkeypatch,
                                                                                   tmp_path):
    """The parity matrix on the shipped model (`make test-all`; `make parity` has every row):
    33 frames, I every 32, GOP 16, every B frame at half scale with the enhancement net, decoded
    with the kernels of other machines and other thread counts to the same bytes, each
    decoder's picture-hash check passing."""
    monkeypatch.delenv("LVC_MODELS", raising=False)
    clip = _ping_pong_clip(tmp_path / "pingpong.y4m", 33)
    stream, here, there = tmp_path / "a.lvc", tmp_path / "here.y4m", tmp_path / "there.y4m"
    run_lvc("encode", clip, stream, "--gop", "16", "--downsample", "on", "-q", "32",
            "--device", "cpu", "--quiet")
    run_lvc("decode", stream, here, "--device", "cpu", "--quiet")
    for threads, env in zip((1, 3, 2), FOREIGN_KERNELS):
        run_lvc("decode", stream, there, "--device", "cpu", "--threads", threads, "--quiet", "-y",
                env=env)
        assert here.read_bytes() == there.read_bytes(), (threads, env)
