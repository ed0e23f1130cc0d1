"""The encoder's motion choice (Refinement.motion, --preset): each P/B frame coded with several
motions, the lowest rate-distortion cost kept; the decoder reads whichever was sent."""

import pytest
import torch

from lvcodec.codec.frame_coder import DecodeChannel, EncodeChannel


def _options():
    """Three codings that each write one substream and return (x_hat, label)."""
    def run(ch, label, size):
        ch.substreams.append(bytes(size))
        return torch.zeros(1), label
    return run


def test_the_encoder_keeps_the_cheapest_coding_and_only_its_substreams():
    ch = EncodeChannel("cpu")
    ch.substreams.append(b"before")
    run = _options()
    sizes = {"a": 9, "b": 3, "c": 5}
    out = ch.choose(list(sizes), lambda o: run(ch, o, sizes[o]),
                    lambda x_hat, streams: sum(len(s) for s in streams))
    assert out[1] == "b" and ch.substreams == [b"before", bytes(3)]


def test_without_a_cost_the_first_option_is_kept():
    ch = EncodeChannel("cpu")
    run = _options()
    out = ch.choose(["a", "b"], lambda o: run(ch, o, {"a": 9, "b": 1}[o]), lambda *_: None)
    assert out[1] == "a" and ch.substreams == [bytes(9)]


def test_the_decoder_codes_once():
    ch = DecodeChannel([b"x"], 1, "a test frame", "cpu")
    seen = []
    assert ch.choose(["a", "b"], lambda o: seen.append(o) or (None, o), None)[1] == "a"
    assert seen == ["a"]


def _coded(model, clip, gop, monkeypatch, motion):
    """The clip coded at q 32 by preset fast (no refinement) searching `motion`; every P and B
    frame keeps its nets (no motion-only frames, which would make the nets' motion moot)."""
    from codec_helpers import encode_frames

    from lvcodec.codec import block_motion, config

    monkeypatch.setattr(block_motion, "MOTION_ONLY", False)
    monkeypatch.setitem(config.PRESETS, "fast", {**config.PRESETS["fast"], "steps": {}, "motion": motion})
    return encode_frames(model, clip, 32, 1, gop=gop)


@pytest.mark.parametrize("gop", [1, 2])
def test_motion_search_lowers_the_rd_cost_and_decodes_exactly(tiny_models, make_clip, tmp_path,
                                                              monkeypatch, gop):
    """Against the nets' motion alone: the first inter frame (the same references in both) costs
    no more in bits + λ·MSE, and the decoder makes the encoder's pictures. (I, P, P in low
    delay; I, P, B in random access.)"""
    from codec_helpers import assert_identical, decode

    from lvcodec.codec.session import _rd_cost
    from lvcodec.weights import load_model

    model = load_model("lvc-tiny")
    clip = make_clip(tmp_path / "c.y4m", frames=3)
    data, searched = _coded(model, clip, gop, monkeypatch, ("net", "zero"))
    assert_identical([c.recon for c in searched], decode(model, data, threads=1))
    _, plain = _coded(model, clip, gop, monkeypatch, ("net",))
    lam = model.lambda_range
    assert _rd_cost(searched[1:2], lam) <= _rd_cost(plain[1:2], lam) * (1 + 1e-4)


def test_unknown_motions_are_refused():
    from lvcodec.codec.refine import Refinement

    with pytest.raises(ValueError, match="motion 'dis' unknown"):
        Refinement(motion=("net", "dis"))


def test_a_wrong_estimate_loses_to_no_motion_on_a_static_clip(make_clip, tmp_path, monkeypatch):
    """The shipped model's estimator made to guess 3 pixels of motion on a clip that does not
    move (the tiny model's motion coder decodes every flow to zero): the search keeps no motion,
    every inter frame costs less, and the stream still decodes to the encoder's pictures."""
    from codec_helpers import assert_identical, decode

    from lvcodec.codec.session import _rd_cost
    from lvcodec.io import open_reader, open_writer
    from lvcodec.nets.motion import MotionEstimator
    from lvcodec.weights import DEFAULT_MODEL, load_model

    moving = make_clip(tmp_path / "m.y4m", frames=1)
    clip = tmp_path / "static.y4m"
    with open_reader(moving) as reader:
        frame = next(iter(reader))
        with open_writer(clip, reader.info) as w:
            for _ in range(3):
                w.write(frame)
    monkeypatch.setattr(MotionEstimator, "forward",
                        lambda self, x, ref: torch.full_like(x[:, :2], 3.0))
    monkeypatch.delenv("LVC_MODELS", raising=False)
    model = load_model(DEFAULT_MODEL)
    data, searched = _coded(model, clip, 2, monkeypatch, ("net", "zero"))
    assert_identical([c.recon for c in searched], decode(model, data, threads=1))
    _, plain = _coded(model, clip, 2, monkeypatch, ("net",))
    lam = model.lambda_range
    for s, p in zip(searched[1:], plain[1:]):
        assert _rd_cost([s], lam) < _rd_cost([p], lam)
