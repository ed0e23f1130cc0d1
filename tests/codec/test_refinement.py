"""--preset medium and slow: latents refined against each frame's RD cost (medium: random
access's anchors', slow: every frame's). The stream is an ordinary one
(decoded bit-exactly by the unchanged decoder), and refinement never codes a frame at a higher
RD cost than the analysis alone."""

from pathlib import Path

import numpy as np
import pytest
import torch

from codec_helpers import assert_identical, decode
from lvcodec.codec import block_motion
from lvcodec.codec.api import encode_stream
from lvcodec.codec.config import PRESETS, EncoderConfig
from lvcodec.codec.frame_coder import PAD, IntraCoder, frame_to_tensor, tensor_to_frame
from lvcodec.codec.refine import Refinement, refine_latents
from lvcodec.errors import ConfigError
from lvcodec.io import Frame, VideoInfo, open_reader
from lvcodec.nets.layers import pad_to
from lvcodec.rd import frame_psnr, lambda_for
from lvcodec.weights import DEFAULT_MODEL, load_model

DEMO = Path(__file__).resolve().parents[2] / "data" / "demo_bbb_320x180.mp4"


def _small_demo(frames: int) -> list:
    """The demo clip's first frames, cropped to 64x64 (a real picture, quick to refine)."""
    with open_reader(DEMO, frames=frames) as r:
        return [Frame(f.y[40:104, 100:164].copy(), f.u[20:52, 50:82].copy(), f.v[20:52, 50:82].copy())
                for f in r]


def test_refined_streams_decode_bit_exactly_in_random_access(tiny_models, make_clip, tmp_path,
                                                             monkeypatch):
    # Every P and B frame keeps its nets: a motion-only frame has no latents to refine.
    monkeypatch.setattr(block_motion, "MOTION_ONLY", False)
    model = load_model("lvc-tiny")
    with open_reader(make_clip(tmp_path / "c.y4m", frames=5)) as r:
        src, info = list(r), r.info
    torch.set_num_threads(2)
    coded = {p: encode_stream(model, src, info, EncoderConfig(gop=4, downsample="off", preset=p),
                              torch.device("cpu")) for p in ("fast", "medium", "slow")}
    for preset in ("medium", "slow"):
        data, frames = coded[preset]
        assert {c.header.frame_type.name for c in frames} == {"I", "P", "B"}
        assert_identical([c.recon for c in frames], decode(model, data, threads=1))
    # The preset changes what the encoder sends, not the syntax: other streams, same frames.
    # medium and slow refine the I frame alike (fast does not); slow also refines B frames and
    # searches motion.
    first = {p: coded[p][1][0].recon.y for p in coded}
    assert np.array_equal(first["medium"], first["slow"])
    assert not np.array_equal(first["fast"], first["medium"])
    assert len({coded[p][0] for p in coded}) == 3


def test_medium_refines_random_access_anchors_only(tiny_models, make_clip, tmp_path, monkeypatch):
    """In low delay and all-intra every frame is an anchor: medium codes them as fast does (slow
    refines them), so its cost stays a fraction of the encode there too. (Fast is given medium's
    block-motion block sizes and vector units, which are not refinement.)"""
    monkeypatch.setitem(PRESETS, "fast", {**PRESETS["fast"],
                                          "block_sizes": PRESETS["medium"]["block_sizes"],
                                          "vector_units": PRESETS["medium"]["vector_units"]})
    model = load_model("lvc-tiny")
    with open_reader(make_clip(tmp_path / "c.y4m", frames=3)) as r:
        src, info = list(r), r.info
    torch.set_num_threads(2)
    for kw in ({"gop": 1}, {"intra_period": 1}):
        streams = {p: encode_stream(model, src, info, EncoderConfig(**kw, preset=p),
                                    torch.device("cpu"))[0] for p in ("fast", "medium", "slow")}
        assert streams["medium"] == streams["fast"] != streams["slow"], kw
    assert EncoderConfig().refinement_steps == {"I": 20, "P": 20}


def _intra_cost(model, frame, quality, steps):
    """(RD cost, bpp, PSNR-YUV) of one I frame, coded for real, with `steps` of refinement."""
    coder = IntraCoder(model.intra, Refinement(steps), model.lambda_range)
    x = frame_to_tensor(frame, "cpu")
    substreams, x_hat, _ = coder.encode(x, quality)
    rec = tensor_to_frame(x_hat, frame.width, frame.height)
    bpp = 8 * sum(len(s) for s in substreams) / (frame.width * frame.height)
    mse = 255 ** 2 / 10 ** (frame_psnr(frame, rec)["yuv"] / 10)
    return bpp + lambda_for(quality, model.lambda_range) * mse, bpp, frame_psnr(frame, rec)["yuv"]


def test_refinement_lowers_the_coded_rd_cost_of_a_real_picture(monkeypatch):
    """At a high q the analysis is far from the best latents (the coded cost falls); at a low
    one this crop gains nothing, and refinement keeps (nearly) what the analysis gave: it picks
    its best step by the entropy model's estimate of the cost, which differs from the coded
    bits by a few tenths of a percent (0.4 % here with the 41.9 k-step intra net)."""
    monkeypatch.delenv("LVC_MODELS", raising=False)
    model = load_model(DEFAULT_MODEL)
    torch.set_num_threads(2)
    frame = _small_demo(1)[0]
    for quality, at_most in ((56, 0.97), (8, 1.01)):
        base, _, _ = _intra_cost(model, frame, quality, 0)
        refined, _, _ = _intra_cost(model, frame, quality, PRESETS["medium"]["steps"]["I"])
        assert refined <= at_most * base, (quality, refined, base)


def test_refinement_keeps_the_analysis_when_no_step_improves_it(monkeypatch):
    """With a learning rate that only makes things worse, the latents come back unchanged."""
    monkeypatch.delenv("LVC_MODELS", raising=False)
    model = load_model(DEFAULT_MODEL)
    net = model.intra
    x = pad_to(frame_to_tensor(_small_demo(1)[0], "cpu"), PAD)
    q = torch.tensor([32.0])
    with torch.no_grad():
        y, z = net.analyse(x, q)
    y2, z2 = refine_latents(y, z, x=x, part=net, prior_fn=net.h_s,
                            synth=lambda y_hat: net.synthesise(y_hat, q), lam=0.01,
                            shape=x.shape[-2:], refinement=Refinement(3, lr=1e3))
    assert torch.equal(y2, y) and torch.equal(z2, z)


def test_unknown_presets_are_refused():
    with pytest.raises(ConfigError, match="preset 'turbo' unknown"):
        EncoderConfig(preset="turbo").validate()
    assert EncoderConfig().preset == "medium"
    # Effort grows from preset to preset: fast refines nothing, medium the anchors, slow all.
    refined = [{t for t, n in PRESETS[p]["steps"].items() if n} for p in ("fast", "medium", "slow")]
    assert refined == [set(), {"I", "P"}, {"I", "P", "B"}]


def test_refined_streams_are_the_same_at_any_thread_count(monkeypatch):
    """Refinement's backward passes would sum in thread-dependent orders; it runs on one thread,
    so --threads (and --jobs, whose workers get fewer) never change the stream."""
    monkeypatch.delenv("LVC_MODELS", raising=False)
    model = load_model(DEFAULT_MODEL)
    with open_reader(DEMO, frames=3) as r:  # whole pictures: small ones sum on one thread anyway
        frames, info = list(r), r.info
    streams = set()
    for threads in (1, 2):
        torch.set_num_threads(threads)
        data, _ = encode_stream(model, frames, info, EncoderConfig(gop=2, downsample="off"),
                                torch.device("cpu"))
        streams.add(data)
    assert len(streams) == 1
