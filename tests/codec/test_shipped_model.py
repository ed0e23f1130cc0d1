"""The shipped model: loads by name through its card, codes a real clip, decodes bit-exactly."""

from pathlib import Path

import numpy as np

from codec_helpers import assert_identical, decode, encode
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
