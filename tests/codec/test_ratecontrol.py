"""Rate control: bit rates parsed, the shipped model landing on a target, and the stream it keeps
(after GOPs coded more than once) decoding bit-exactly. The command line: tests/cli."""

from dataclasses import replace
from pathlib import Path

import numpy as np
import pytest
import torch

from codec_helpers import assert_identical, decode
from lvcodec.codec.api import encode_stream
from lvcodec.codec.config import EncoderConfig, parse_bitrate
from lvcodec.errors import ConfigError
from lvcodec.io import Frame, VideoInfo, open_reader
from lvcodec.weights import DEFAULT_MODEL, load_model

DEMO = Path(__file__).resolve().parents[2] / "data" / "demo_bbb_320x180.mp4"


@pytest.mark.parametrize("text, bits", [("300k", 300e3), ("1.5M", 1.5e6), ("250000", 250e3),
                                        ("64K", 64e3), (" 2m ", 2e6)])
def test_bitrates_parse_with_k_and_m_suffixes(text, bits):
    assert parse_bitrate(text) == bits


@pytest.mark.parametrize("text", ["", "abc", "0", "0k", "-300k", "1.5G", "3e5", "inf", "nan",
                                  "300 kbps"])
def test_bad_bitrates_are_refused(text):
    with pytest.raises(ConfigError, match="--bitrate"):
        parse_bitrate(text)


def _half(p):
    return ((p[0::2, 0::2].astype(np.uint16) + p[1::2, 0::2] + p[0::2, 1::2] + p[1::2, 1::2] + 2)
            // 4).astype(np.uint8)


def test_the_shipped_model_lands_on_the_target_and_decodes_bit_exactly(monkeypatch):
    """17 frames of the demo clip at 160x90 (played forwards and back), GOP 8: three GOPs."""
    monkeypatch.delenv("LVC_MODELS", raising=False)
    model = load_model(DEFAULT_MODEL)
    with open_reader(DEMO) as r:
        src = [Frame(_half(f.y), _half(f.u), _half(f.v)) for f in r]
    frames = (src + src[-2:0:-1])[:17]
    info = VideoInfo(frames[0].width, frames[0].height, 25, 1, len(frames))
    torch.set_num_threads(2)
    # Preset fast: rate control codes each GOP several times; what it lands on is the point.
    config = EncoderConfig(gop=8, bitrate=150e3, preset="fast")
    data, coded = encode_stream(model, frames, info, config, torch.device("cpu"))
    kbps = len(data) * 8 * info.fps / len(frames) / 1000
    assert abs(kbps / 150 - 1) <= 0.05, kbps
    # The first intra frame was coded at least three times (two to fit the model): what the
    # stream keeps must still be what the decoder makes, on another thread count.
    assert_identical([c.recon for c in coded], decode(model, data, threads=1))
    anchors = {c.header.display_index: c.header.quality for c in coded if c.header.temporal_layer == 0}
    assert sorted(anchors) == [0, 8, 16]
    with pytest.raises(ConfigError, match="bit rate"):
        replace(config, bitrate=-1.0).validate()


@pytest.mark.parametrize("frames, known", [(1, False), (1, True), (6, False)])
def test_rate_control_codes_inputs_of_unknown_or_tiny_length(tiny_models, make_clip, tmp_path,
                                                            frames, known):
    """The first intra frame waits for the GOP after it: a one-frame input, or one whose length
    is unknown (a pipe), still gets every frame, and decodes to the encoder's pictures."""
    model = load_model("lvc-tiny")
    with open_reader(make_clip(tmp_path / "m.y4m", frames=frames)) as r:
        src = list(r)
        info = replace(r.info, frame_count=frames if known else None)
    config = EncoderConfig(gop=4, bitrate=60e3)
    data, coded = encode_stream(model, src, info, config, torch.device("cpu"))
    assert sorted(c.header.display_index for c in coded) == list(range(frames))
    assert_identical([c.recon for c in coded], decode(model, data, threads=1))


def _synthetic_gops(frames, gop, intra_period):
    """The GOPs the Encoder plans (gop.next_anchor, gop.plan_gop), the first intra frame alone."""
    from lvcodec.codec.gop import next_anchor, plan_gop

    gops, anchor = [plan_gop(None, 0, intra_period)], 0
    while anchor < frames - 1:
        nxt = min(next_anchor(anchor, gop, intra_period), frames - 1)
        gops.append(plan_gop(anchor, nxt, intra_period))
        anchor = nxt
    return gops


def _synthetic_size(plan, gop_q, later_b):
    """Bytes of a frame coded at the GOP's q: log-convex in q (as lvc's: log-bits steepen towards
    q 63); the B frames after frame 16 cost `later_b` times the first GOP's (content that changes)."""
    import math

    from lvcodec.bitstream import FrameType
    from lvcodec.codec.gop import layer_quality

    q = layer_quality(gop_q, plan.temporal_layer)
    base = {FrameType.I: 6000, FrameType.P: 2500, FrameType.B: 1200}[plan.frame_type]
    if plan.display_index > 16 and plan.frame_type == FrameType.B:
        base *= later_b
    return q, int(base * 0.7 ** plan.temporal_layer * math.exp(0.004 * q + 0.00035 * q * q))


def _kbps(total_bytes, frames, fps=24):
    return total_bytes * 8 * fps / frames / 1000


@pytest.mark.parametrize("frames, gop, later_b", [(10, 16, 1.0), (17, 8, 1.0), (33, 16, 1.0),
                                                  (33, 16, 0.7), (64, 16, 1.0), (64, 16, 0.7)])
def test_rate_control_lands_within_tolerance_along_a_log_convex_curve(frames, gop, later_b):
    """Every target between the fixed-q curve's ends (20 of them, log-spaced) within ±5 %, driving
    a RateController as the Encoder does over a synthetic coder: the last GOP is re-coded between
    the attempts that straddle the target, and the first GOP's future is predicted from its own
    P and B frames, not from priors (bbb_closeup at 291 kbit/s missed by -11.8 % before)."""
    from types import SimpleNamespace

    from lvcodec.codec.ratecontrol import FRAME_OVERHEAD_BYTES, STREAM_OVERHEAD_BYTES, RateController

    gops = _synthetic_gops(frames, gop, 32)

    def coder(plans):
        def attempt(gop_q):
            out = []
            for p in plans:
                q, size = _synthetic_size(p, gop_q, later_b)
                header = SimpleNamespace(frame_type=p.frame_type, temporal_layer=p.temporal_layer,
                                         display_index=p.display_index, quality=q)
                out.append(SimpleNamespace(header=header, substreams=[bytes(size)]))
            return out, None
        return attempt

    lo, hi = (_kbps(sum(_synthetic_size(p, q, later_b)[1] + FRAME_OVERHEAD_BYTES
                        for g in gops for p in g), frames) for q in (0, 63))
    for k in range(1, 21):
        target = lo * (hi / lo) ** (k / 21)
        rc = RateController(target * 1000, 24, frames, gop, 32)
        total = STREAM_OVERHEAD_BYTES
        for g in [gops[0] + gops[1]] + gops[2:]:  # the first intra frame goes with the next GOP
            coded, _ = rc.code_gop(g, coder(g), lambda q, g=g: coder(g[:1])(q)[0])
            total += sum(len(c.substreams[0]) + FRAME_OVERHEAD_BYTES for c in coded)
        achieved = _kbps(total, frames)
        assert abs(achieved / target - 1) <= 0.05, (target, achieved)
